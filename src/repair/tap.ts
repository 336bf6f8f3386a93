/**
 * Reads the TAP that `node --test` prints when its output is not a terminal: each test's name, verdict,
 * location and error, plus the run's pass/fail counts. Other runners' output yields no tests; the exit
 * code is then the only verdict.
 */
export interface TapTest {
  name: string;
  ok: boolean;
  /** `file:line:col` for a failure, when the runner reported one. */
  location: string | undefined;
  error: string | undefined;
  /** Stack frames (`file:line`) of the failure. */
  frames: string[];
}

export interface TapSummary {
  tests: TapTest[];
  pass: number | undefined;
  fail: number | undefined;
}

const RESULT = /^(\s*)(not ok|ok) \d+ - (.*?)(?:\s+#\s*(SKIP|TODO).*)?$/;

export function parseTap(text: string): TapSummary {
  const lines = text.split('\n');
  const tests: TapTest[] = [];
  let pass: number | undefined;
  let fail: number | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const p = /^# pass (\d+)/.exec(line);
    if (p) pass = Number(p[1]);
    const f = /^# fail (\d+)/.exec(line);
    if (f) fail = Number(f[1]);
    const m = RESULT.exec(line);
    if (!m || m[4]) continue;
    const indent = m[1]!.length;
    const t: TapTest = { name: m[3]!.replace(/\\#/g, '#'), ok: m[2] === 'ok', location: undefined, error: undefined, frames: [] };
    // The YAML block that follows, indented two more spaces, up to '...'.
    let j = i + 1;
    if (lines[j]?.trim() === '---') {
      const body: string[] = [];
      for (j++; j < lines.length && lines[j]!.trim() !== '...'; j++) body.push(lines[j]!.slice(indent + 2));
      i = j;
      const yaml = body.join('\n');
      t.location = /^location: '([^']+)'/m.exec(yaml)?.[1];
      const err = /^error: (?:\|-\n)?([\s\S]*?)(?=\n\S)/m.exec(`${yaml}\n_`);
      t.error = err?.[1]?.replace(/^ {2}/gm, '').trim();
      const stackAt = yaml.search(/^stack:/m);
      const stack = stackAt < 0 ? '' : yaml.slice(stackAt);
      for (const fr of stack.matchAll(/\(?((?:file:\/\/)?\/[^\s():]+):(\d+):\d+\)?/g)) t.frames.push(`${fr[1]!.replace(/^file:\/\//, '')}:${fr[2]}`);
    }
    // node --test nests a file's tests under suites; only leaves count, and a suite line repeats them.
    if (indent > 0 || !tests.some((x) => x.name === t.name)) tests.push(t);
  }
  return { tests, pass, fail };
}
