/** Turning zod issues and raw bytes into positioned input problems (helpers of yaml-file.ts). */
import { isUtf8 } from 'node:buffer';
import type { z } from 'zod';
import type { Problem } from './problems.js';
import type { YamlSource } from './yaml-source.js';

/** Offset of the first byte that is not valid UTF-8, or undefined for valid text. */
export function firstInvalidUtf8(buf: Buffer): number | undefined {
  if (isUtf8(buf)) return undefined; // native fast path; the scan below only runs on bad files
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    const n = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    // Overlong forms, surrogates and code points past U+10FFFF.
    const c1 = buf[i + 1] ?? 0;
    if ((b === 0xe0 && c1 < 0xa0) || (b === 0xed && c1 > 0x9f) || (b === 0xf0 && c1 < 0x90) || (b === 0xf4 && c1 > 0x8f)) return i;
    i += n + 1;
  }
  return buf.length; // isUtf8 said no, the scan found nothing: blame the end
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null (an empty value)';
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json.length > 80 ? `${json.slice(0, 77)}...` : json;
}

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'an empty value';
  return typeof value === 'object' ? 'a map' : `a ${typeof value} (${describeValue(value)})`;
}

function valueAt(data: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = data;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** One zod issue as problems (an unknown-keys issue gives one problem per key, at the key). */
export function problemsOfIssue(source: YamlSource, issue: z.core.$ZodIssue, what: string, hint: string): Problem[] {
  const path = issue.path;
  const field = path.map(String).join('.');
  const at = (pos: { line: number; col: number } | undefined, message: string): Problem => ({ code: 'E_SCHEMA', file: source.file, line: pos?.line, col: pos?.col, message: `invalid ${what}: ${message}` });
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => at(source.keyPosOf(path, key), `unknown field '${key}'${path.length ? ` in '${field}'` : ''}. Fix: remove it or check the spelling (${hint}).`));
  }
  const value = valueAt(source.data, path);
  if (path.length === 0) {
    return [at(source.posOf([]), `expected a map of fields at the top level, got ${kindOf(value)}. Fix: ${hint}.`)];
  }
  if (issue.code === 'invalid_type' && value === undefined) {
    const parent = valueAt(source.data, path.slice(0, -1));
    // A key present with no value (`handler:`) is null, not undefined; undefined is a missing key.
    const present = parent !== null && typeof parent === 'object' && Object.hasOwn(parent, path[path.length - 1]!);
    if (!present) return [at(source.posOf(path.slice(0, -1)), `missing required field '${field}' (${issue.expected}). Fix: add it (${hint}).`)];
  }
  const fix = fixFor(issue);
  return [at(source.posOf(path), `field '${field}': ${issue.message} (got ${describeValue(value)}). Fix: ${fix ? `${fix}; ${hint}` : hint}.`)];
}

/** The concrete fix zod's issue implies ("use a number >= 16"), with the docs in brackets by the caller's hint. */
function fixFor(issue: z.core.$ZodIssue): string | undefined {
  const bound = (i: { origin: string; inclusive?: boolean }, v: number | bigint, dir: 'min' | 'max'): string => {
    if (i.origin === 'array' || i.origin === 'set') return `list ${dir === 'min' ? 'at least' : 'at most'} ${v} item${v === 1 ? '' : 's'}`;
    if (i.origin === 'string') return `use ${dir === 'min' ? 'at least' : 'at most'} ${v} character${v === 1 ? '' : 's'}`;
    return `use a number ${dir === 'min' ? (i.inclusive ? '>=' : '>') : i.inclusive ? '<=' : '<'} ${v}`;
  };
  switch (issue.code) {
    case 'too_small':
      return bound(issue, issue.minimum, 'min');
    case 'too_big':
      return bound(issue, issue.maximum, 'max');
    case 'invalid_type':
    {
      const noun = issue.expected === 'int' ? 'whole number' : issue.expected === 'object' ? 'map' : issue.expected === 'array' ? 'list' : issue.expected;
      return `use ${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
    }
    case 'invalid_value':
      return `use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_format':
      return issue.message;
    default:
      return undefined;
  }
}
