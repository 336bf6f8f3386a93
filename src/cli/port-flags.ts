/**
 * Flags with an optional port (`--dashboard`, `--dashboard 8080`, `--dashboard=8080`): node:util
 * parseArgs has no optional values, so they are taken out of argv first. A following word that is not
 * a number is left alone (it is the plan file or the next flag).
 */
import { InputError } from '../errors.js';

export function takeOptionalPort(argv: string[], flag: string): { port: number | undefined; rest: string[] } {
  const rest: string[] = [];
  let port: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let value: string | undefined;
    if (a === flag) {
      const next = argv[i + 1];
      if (next !== undefined && /^\d+$/.test(next)) {
        value = next;
        i++;
      } else value = '0';
    } else if (a.startsWith(`${flag}=`)) {
      value = a.slice(flag.length + 1);
    } else {
      rest.push(a);
      continue;
    }
    port = parsePort(flag, value);
  }
  return { port, rest };
}

export function parsePort(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InputError('E_USAGE', `${flag} '${value}': expected a port number 0-65535 (0 picks a free port).`);
  return Number(value);
}

const HOST = /^(?:[A-Za-z0-9.-]{1,253}|\[?[0-9A-Fa-f:]{2,39}\]?)$/;

export function parseHost(value: string | undefined): string {
  if (value === undefined) return '127.0.0.1';
  if (!HOST.test(value)) throw new InputError('E_USAGE', `--host '${value}': expected an IP address or host name (default 127.0.0.1).`);
  return value.replace(/^\[|\]$/g, '');
}
