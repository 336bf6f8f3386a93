/**
 * The error line of a dead process's stderr tail, for the crash message. Runtimes print a fatal error
 * with decoration around it, and the last line is rarely the error:
 * - Node, uncaught error: source excerpt, `Error: msg`, stack frames, then for an error with own
 *   properties (every fs/net/child_process error) a `{ errno: -2, code: 'ENOENT', ... }` block, then the
 *   `Node.js v20` footer. The error line is the one above the last stack's first frame.
 * - Node, a thrown non-Error: `Uncaught 'x'` or the bare value, then the `(Use node --trace-uncaught ...)` hint.
 * - Python: `Traceback (most recent call last):`, indented frames, then `ValueError: msg` (last line).
 * - V8 fatal errors: `FATAL ERROR: ...` or `# Fatal error in <file>, line N` + `# <check>`, then a native stack.
 */

const MAX = 300;

const clip = (l: string): string => (l.length > MAX ? `${l.slice(0, MAX - 3)}...` : l);
const isFrame = (l: string): boolean => /^\s+at\s/.test(l);
/** Lines that are never the error: the footer, hints, native frames, banners, blank. */
const isNoise = (l: string): boolean => {
  const t = l.trim();
  return (
    t === '' ||
    t.startsWith('Node.js v') ||
    t.startsWith('(Use `node --trace') ||
    /^\d+: 0x[0-9a-f]+/.test(t) ||
    /^-+ .* -+$/.test(t) ||
    /^<--- .* --->$/.test(t) ||
    /^#\s*$/.test(t) ||
    t === '^' ||
    /^\^+$/.test(t)
  );
};
/** `Error: msg`, `TypeError [ERR_X]: msg`, `SomeError: msg`, `Uncaught ...`: a Node error header. */
const ERROR_HEADER = /^(?:Uncaught\s|[\w$.]*(?:Error|Exception)(?:\s\[[\w-]+\])?(?::|$)|AssertionError)/;

/** The error line of `tail` (the last fatal error printed), clipped to 300 characters; '' if none. */
export function crashLine(tail: string): string {
  const lines = tail.replace(/\r/g, '').split('\n');
  return clip(v8Fatal(lines) ?? python(lines) ?? nodeError(lines) ?? lastMeaningful(lines) ?? '');
}

function v8Fatal(lines: string[]): string | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    if (l.startsWith('FATAL ERROR:')) return l;
    if (/^# Fatal error in /.test(l)) {
      const detail = lines.slice(i + 1, i + 4).map((x) => x.replace(/^#\s*/, '').trim()).find((x) => x !== '');
      return detail ? `${l.replace(/^#\s*/, '')}: ${detail}` : l.replace(/^#\s*/, '');
    }
  }
  return undefined;
}

function python(lines: string[]): string | undefined {
  let tb = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]!.startsWith('Traceback (most recent call last):')) {
      tb = i;
      break;
    }
  }
  if (tb < 0) return undefined;
  // The exception line is the first unindented line after the frames ("  File ...", "    code").
  for (let i = tb + 1; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trim() !== '' && !/^\s/.test(l)) return l.trim();
  }
  return undefined;
}

function nodeError(lines: string[]): string | undefined {
  let last = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (isFrame(lines[i]!)) {
      last = i;
      break;
    }
  }
  if (last < 0) return undefined;
  let first = last;
  while (first > 0 && isFrame(lines[first - 1]!)) first--;
  // A multi-line message: the header is the nearest `XxxError:` line above the frames (a few lines up).
  for (let i = first - 1; i >= Math.max(0, first - 8); i--) {
    const l = lines[i]!.trim();
    if (ERROR_HEADER.test(l)) return l;
  }
  for (let i = first - 1; i >= 0; i--) if (!isNoise(lines[i]!)) return lines[i]!.trim();
  return undefined;
}

function lastMeaningful(lines: string[]): string | undefined {
  // No stack: a thrown non-Error (`Uncaught 'x'`, or the value on its own line) or a plain message.
  const kept = lines.filter((l) => !isNoise(l) && !/^[{}[\]]\s*,?$/.test(l.trim()) && !/^\s+[\w$]+: .*,?$/.test(l));
  const header = [...kept].reverse().find((l) => ERROR_HEADER.test(l.trim()));
  const l = header ?? kept[kept.length - 1];
  return l?.trim();
}
