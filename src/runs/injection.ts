/** `AGENT:FAULT[@ATTEMPT]` -> an Injection: the one parser for `--inject` and `runPlan({ inject })`. */
import { InputError } from '../errors.js';
import { FAULTS } from '../protocol/messages.js';
import type { Injection } from '../scheduler/scheduler.js';

const INJECT = /^([A-Za-z0-9][A-Za-z0-9_.-]*):([a-z]+)(?:@(\d+))?$/;

/** Parse one injection. Throws InputError E_USAGE naming the text and the expected form. */
export function parseInjection(text: string): Injection {
  const m = INJECT.exec(text);
  if (!m || !(FAULTS as readonly string[]).includes(m[2]!)) {
    throw new InputError('E_USAGE', `--inject '${text}': expected AGENT:FAULT[@ATTEMPT] with FAULT one of ${FAULTS.join(', ')} (e.g. patch_agent:crash@1).`);
  }
  const attempt = m[3] === undefined ? undefined : Number(m[3]);
  if (attempt !== undefined && attempt < 1) throw new InputError('E_USAGE', `--inject '${text}': ATTEMPT counts from 1.`);
  return { agent: m[1]!, fault: m[2] as Injection['fault'], attempt };
}
