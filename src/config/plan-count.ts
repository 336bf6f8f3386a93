/**
 * Counting a plan's tasks without parsing it: a linear scan of the lines for the items of the top-level
 * `tasks:` block sequence. A plan over the task limit is refused before the YAML parse, which takes
 * seconds for a file of several MiB (docs/plans.md "Size limits").
 *
 * Exact for a block-style `tasks:` list (what `agentos` writes and the docs show): an item is a line whose
 * first non-space character is a `-` followed by a space or the line's end, at the indentation of the
 * first item. YAML requires everything inside an item (block scalars, continued strings, nested lists) to
 * be indented deeper, so no other line looks like an item. Any other shape (a flow list `tasks: [...]`, an
 * alias, a quoted key) returns undefined and the full parse counts.
 */

/** Where the `tasks:` key is and how many items its block sequence has. */
export interface TaskCount {
  count: number;
  /** 1-based line and column of the first item (where the parser places the list). */
  line: number;
  col: number;
}

const SPACE = 0x20;
const DASH = 0x2d;
const HASH = 0x23;

/** Count the items of the top-level block sequence `tasks:`; undefined when the plan has another shape. */
export function countPlanTasks(text: string): TaskCount | undefined {
  let tasksLine = 0;
  let firstLine = 0;
  let itemIndent = -1;
  let count = 0;
  let lineNo = 0;
  for (let start = text.charCodeAt(0) === 0xfeff ? 1 : 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    let indent = start;
    while (indent < end && text.charCodeAt(indent) === SPACE) indent++;
    const first = indent < end ? text.charCodeAt(indent) : -1;
    const blank = first === -1 || first === HASH || (first === 0x0d && indent === end - 1);
    const col = indent - start;
    if (tasksLine === 0) {
      if (col === 0 && text.startsWith('tasks:', start)) {
        const rest = text.slice(start + 6, end).trim();
        if (rest !== '' && !rest.startsWith('#')) return undefined; // `tasks: [ ... ]`, `tasks: *alias`
        tasksLine = lineNo;
      }
    } else if (!blank) {
      const next = indent + 1 < end ? text.charCodeAt(indent + 1) : -1;
      const isItem = first === DASH && (next === -1 || next === SPACE || next === 0x0d);
      if (itemIndent < 0) {
        if (!isItem) return undefined; // not a block sequence
        itemIndent = col;
        firstLine = lineNo;
        count = 1;
      } else if (col === itemIndent && isItem) count++;
      else if (col < itemIndent || (col === itemIndent && !isItem) || (col === 0 && text.startsWith('---', start))) break; // the next key
    }
    start = end + 1;
  }
  return itemIndent >= 0 ? { count, line: firstLine, col: itemIndent + 1 } : undefined;
}
