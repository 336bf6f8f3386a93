/** The one integer-flag schema: every error names the flag and the bound it broke. */
import { z } from 'zod';

export function intFlag(flag: string, min: number, max: number) {
  return z.coerce
    .number({ error: `${flag} takes a whole number` })
    .int(`${flag} takes a whole number`)
    .min(min, `${flag} must be at least ${min}`)
    .max(max, `${flag} must be at most ${max}`);
}
