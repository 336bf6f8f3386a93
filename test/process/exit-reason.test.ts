/**
 * The crash message is the actual error line of a real dying process (Node uncaught errors with
 * properties, thrown non-Errors, Python tracebacks, V8 fatal errors), and `memory` only for a real
 * heap-limit death. Each case runs a real child and classifies its real exit and stderr.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { classifyExit } from '../../dist/src/process/exit-reason.js';

async function die(cmd: string, args: string[]) {
  const r = await execa(cmd, args, { reject: false, all: false, timeout: 30_000 });
  return classifyExit({ code: r.exitCode ?? null, signal: (r.signal as NodeJS.Signals | undefined) ?? null, killReason: undefined, stderrTail: r.stderr.slice(-8192) }, 1000, 64);
}
const node = (src: string, flags: string[] = []) => die(process.execPath, [...flags, '--input-type=module', '-e', src]);

describe('crash message is the error line', () => {
  it('an fs error with properties thrown from a timer names the error, not "}"', async () => {
    const r = await node(`import { readFileSync } from 'node:fs'; setTimeout(() => readFileSync('/nonexistent/agentos-x/config.json'), 1);`);
    expect(r.kind).toBe('crash');
    expect(r.message).toMatch(/exited with code 1 without a result: Error: ENOENT: no such file or directory, open '\/nonexistent\/agentos-x\/config.json'$/);
  });

  it('an error with a code in brackets and a multi-line message keeps its header', async () => {
    const r = await node(`const e = new TypeError('first line\\nsecond line'); e.code = 'ERR_X'; e.extra = { a: 1 }; setTimeout(() => { throw e; }, 1);`);
    expect(r.message).toMatch(/: TypeError: first line$/);
  });

  it('a thrown string is the message', async () => {
    const r = await node(`setTimeout(() => { throw 'plain string boom'; }, 1);`);
    expect(r.message).toMatch(/: plain string boom$/);
  });

  it('a Python traceback gives its last line', async () => {
    const r = await die('python3', ['-c', 'import json\ndef f():\n    raise ValueError("bad config value")\nf()\n']);
    expect(r.kind).toBe('crash');
    expect(r.message).toMatch(/: ValueError: bad config value$/);
  });

  it('a real V8 heap-limit death is memory', async () => {
    const r = await node(`const a = []; for (;;) a.push(new Array(100000).fill(1.5));`, ['--max-old-space-size=32']);
    expect(r.kind).toBe('memory');
    expect(r.message).toMatch(/V8 heap limit/);
  });

  it('printing the heap-limit words without dying of it is a crash, not memory', async () => {
    const r = await node(`console.error('FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory'); process.exit(3);`);
    expect(r.kind).toBe('crash');
  });

  it('a cgroup OOM kill is memory and says so', () => {
    const r = classifyExit({ code: null, signal: 'SIGKILL', killReason: undefined, stderrTail: '', oomKilled: true, cgroupLimitMb: 64 }, 1000, 64);
    expect(r).toEqual({ kind: 'memory', message: expect.stringMatching(/cgroup memory limit of 64 MB/) });
  });
});
