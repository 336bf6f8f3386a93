/**
 * A unified diff of one file's change, in the `a/` `b/` form `patch -p1` applies. The repair loop changes
 * one contiguous region, so one hunk (with three lines of context) is exact.
 */
export function unifiedDiff(file: string, before: string, after: string, context = 3): string {
  if (before === after) return '';
  const a = before.split('\n');
  const b = after.split('\n');
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const from = Math.max(0, pre - context);
  const aEnd = Math.min(a.length, a.length - suf + context);
  const bEnd = Math.min(b.length, b.length - suf + context);
  // A file ending in '\n' splits into a last empty element: it is not a line of its own.
  const aLines = a.slice(from, aEnd);
  const bLines = b.slice(from, bEnd);
  const trimEmptyTail = (lines: string[], total: number, end: number): string[] => (end === total && lines[lines.length - 1] === '' ? lines.slice(0, -1) : lines);
  const aHunk = trimEmptyTail(aLines, a.length, aEnd);
  const bHunk = trimEmptyTail(bLines, b.length, bEnd);
  const changedA = a.length - suf - pre;
  const out = [`--- a/${file}`, `+++ b/${file}`, `@@ -${from + 1},${aHunk.length} +${from + 1},${bHunk.length} @@`];
  const lead = pre - from;
  for (let i = 0; i < lead; i++) out.push(` ${aHunk[i]}`);
  for (let i = lead; i < lead + changedA && i < aHunk.length; i++) out.push(`-${aHunk[i]}`);
  const changedB = b.length - suf - pre;
  for (let i = lead; i < lead + changedB && i < bHunk.length; i++) out.push(`+${bHunk[i]}`);
  for (let i = lead + changedA; i < aHunk.length; i++) out.push(` ${aHunk[i]}`);
  return `${out.join('\n')}\n`;
}
