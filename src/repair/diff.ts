/**
 * A unified diff of one file's change, in the `a/` `b/` form `patch -p1` applies. The repair loop changes
 * one contiguous region, so one hunk (with three lines of context) is exact. A last line without a
 * newline is marked as diff(1) does ("\ No newline at end of file").
 */
const NO_EOL = '\\ No newline at end of file';

function splitLines(text: string): { lines: string[]; eol: boolean } {
  const eol = text.endsWith('\n');
  const lines = text.split('\n');
  if (eol) lines.pop();
  return { lines, eol };
}

export function unifiedDiff(file: string, before: string, after: string, context = 3): string {
  if (before === after) return '';
  const A = splitLines(before);
  const B = splitLines(after);
  const a = A.lines;
  const b = B.lines;
  // A last line without a newline differs from the same text with one.
  const ka = (i: number): string => (i === a.length - 1 && !A.eol ? `${a[i]}\u0000` : a[i]!);
  const kb = (i: number): string => (i === b.length - 1 && !B.eol ? `${b[i]}\u0000` : b[i]!);
  let pre = 0;
  while (pre < a.length && pre < b.length && ka(pre) === kb(pre)) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && ka(a.length - 1 - suf) === kb(b.length - 1 - suf)) suf++;
  const from = Math.max(0, pre - context);
  const aEnd = Math.min(a.length, a.length - suf + context);
  const bEnd = Math.min(b.length, b.length - suf + context);
  const out = [`--- a/${file}`, `+++ b/${file}`, `@@ -${from + 1},${aEnd - from} +${from + 1},${bEnd - from} @@`];
  const line = (prefix: string, arr: string[], i: number, eol: boolean): void => {
    out.push(`${prefix}${arr[i]}`);
    if (i === arr.length - 1 && !eol) out.push(NO_EOL);
  };
  for (let i = from; i < pre; i++) line(' ', a, i, A.eol && B.eol);
  for (let i = pre; i < a.length - suf; i++) line('-', a, i, A.eol);
  for (let i = pre; i < b.length - suf; i++) line('+', b, i, B.eol);
  for (let i = a.length - suf; i < aEnd; i++) line(' ', a, i, A.eol);
  return `${out.join('\n')}\n`;
}
