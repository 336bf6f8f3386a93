/**
 * Turning whatever a handler produced into frames the kernel accepts (docs/protocol.md limits), without
 * ever throwing: errors of any shape (non-Errors, proxies, getters that throw, null-prototype objects,
 * a toString that throws, Symbols) become a WireError within the schema's limits, so a thrown value is
 * always `exception`, never a crash; outputs are encoded once and checked against max_output_mb.
 * Node builtins only: loaded on every agent start-up.
 */
import type { WireError } from '../src/protocol/messages.js';

/** The kernel's schema limits of a WireError (src/protocol/validate.ts), in characters. */
export const LIMITS = { name: 200, message: 100_000, stack: 200_000, code: 200, logMsg: 100_000 } as const;

/** Envelope the kernel allows on top of max_output_mb in one line (bytes). */
const ENVELOPE = 64 * 1024;

function attempt<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

function clip(text: string, max: number, keepEnd = false): string {
  if (text.length <= max) return text;
  const note = ` … [${text.length - max} more characters cut]`;
  return keepEnd ? text.slice(text.length - max) : text.slice(0, Math.max(0, max - note.length)) + note;
}

/** A printable account of any value. Never throws. */
export function describe(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'symbol') return attempt(() => v.toString(), 'Symbol()');
  const s = attempt<string | undefined>(() => String(v), undefined);
  if (s !== undefined && s !== '[object Object]') return s;
  const json = attempt<string | undefined>(() => JSON.stringify(v), undefined);
  if (json !== undefined) return json;
  return `<unprintable ${attempt(() => typeof v, 'value')}>`;
}

/** A thrown or rejected value as a WireError within the kernel's limits. Never throws. */
export function toSafeWireError(err: unknown): WireError {
  const isObject = attempt(() => (typeof err === 'object' && err !== null) || typeof err === 'function', false);
  if (!isObject) return { name: 'NonError', message: clip(describe(err), LIMITS.message) };
  const o = err as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown };
  const rawName = attempt(() => o.name, undefined);
  const name = typeof rawName === 'string' && rawName ? rawName : rawName === undefined || rawName === null ? 'NonError' : describe(rawName);
  const rawMessage = attempt(() => o.message, undefined);
  const message = typeof rawMessage === 'string' ? rawMessage : rawMessage === undefined ? describe(err) : describe(rawMessage);
  const out: WireError = { name: clip(name, LIMITS.name), message: clip(message, LIMITS.message) };
  const stack = attempt(() => o.stack, undefined);
  if (typeof stack === 'string') out.stack = clip(stack, LIMITS.stack);
  const code = attempt(() => o.code, undefined);
  if (typeof code === 'string') out.code = clip(code, LIMITS.code);
  return out;
}

/** The largest output one result may carry (bytes of JSON), from the kernel's frame limit in the environment. */
export function maxOutputBytes(env: NodeJS.ProcessEnv = process.env): number {
  const frame = Number(env.AGENTOS_MAX_FRAME_BYTES);
  return Number.isInteger(frame) && frame > ENVELOPE ? frame - ENVELOPE : Number.MAX_SAFE_INTEGER;
}

/**
 * The output as JSON text (undefined and values whose JSON is undefined become `null`), or why it cannot
 * be carried (functions, symbols, BigInt, cycles, over the size cap). Encoded once: the result frame
 * embeds this text as is.
 */
export function encodeOutput(output: unknown, maxBytes: number): { ok: true; json: string } | { ok: false; error: WireError } {
  let json: string | undefined;
  try {
    json = JSON.stringify(output, (_key, v: unknown) => {
      if (typeof v === 'function' || typeof v === 'symbol') {
        throw new TypeError(`output holds a ${typeof v}, which cannot cross the channel`);
      }
      return v;
    });
  } catch (err) {
    return { ok: false, error: toSafeWireError(err) };
  }
  json ??= 'null';
  // Strings are UTF-16: the byte count is at most 3x the length, so skip the count for small outputs.
  if (json.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(json);
    if (bytes > maxBytes) {
      const mb = (n: number): string => (n / 2 ** 20).toFixed(1);
      return { ok: false, error: { name: 'RangeError', message: `output is ${bytes} bytes as JSON (${mb(bytes)} MiB), over the ${mb(maxBytes)} MiB limit (agent.yaml max_output_mb)` } };
    }
  }
  return { ok: true, json };
}

/** A log line's text within the kernel's limit. Never throws. */
export function logText(msg: unknown): string {
  return clip(describe(msg), LIMITS.logMsg);
}

/** Log data that JSON can carry, within `maxBytes`; otherwise a note saying why it was left out. Never throws. */
export function logData(data: unknown, maxBytes: number): unknown {
  if (data === undefined) return undefined;
  const enc = encodeOutput(data, maxBytes);
  return enc.ok ? data : { unloggable: enc.error.message };
}
