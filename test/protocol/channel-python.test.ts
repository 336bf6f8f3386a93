/**
 * The Python SDK as the kernel will run it: `python3 sdk/python/agentos_host.py` with the channel on fd 3,
 * driven through src/protocol/channel.ts. Faults are committed by the real Python process.
 * Skips with a notice when python3 is absent; AGENTOS_REQUIRE_OPTIONAL=1 (CI) turns that into a failure.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, cleanupTempDirs, pidAlive, tempDir } from '../helpers.js';
import { PYTHON, killAll, pythonAvailable, startAgent, startPythonAgent, task, waitBusy } from './harness.js';

const hasPython = pythonAvailable();
const required = process.env.AGENTOS_REQUIRE_OPTIONAL === '1';
if (!hasPython) {
  if (required) throw new Error(`AGENTOS_REQUIRE_OPTIONAL=1 but ${PYTHON} (>= 3.8) is not available`);
  console.warn(`[skip] Python SDK tests: ${PYTHON} (>= 3.8) not found; set AGENTOS_PYTHON or install python3`);
}

afterEach(async () => {
  await killAll();
  cleanupTempDirs();
});

describe.skipIf(!hasPython)('Python SDK over the fd-3 channel', () => {
  it('handshake announces protocol 1 and runtime python; a task returns its result with task info', async () => {
    const a = startPythonAgent('handler.py');
    expect(await a.next('ready')).toEqual({ type: 'ready', pid: a.pid, protocol: 1, runtime: 'python' });
    a.channel.send(task('r1', { op: 'echo', value: ['x', 1.5, null, { k: 'ü' }] }, { attempt: 3, deps: { up: { n: 1 } } }));
    const res = await a.next('result');
    expect(res).toEqual({
      type: 'result', requestId: 'r1', taskId: 't-r1', ok: true,
      output: { value: ['x', 1.5, null, { k: 'ü' }], task: 't-r1', attempt: 3, key: 'key-r1', deps: { up: { n: 1 } }, agent: ['py', 2] },
    });
  });

  it('every ctx method maps to its op; an error reply raises SyscallError with the code', async () => {
    const a = startPythonAgent('handler.py');
    await a.next('ready');
    a.answerCalls((c) => (c.op === 'memory.get' ? { error: { name: 'SyscallError', message: 'no such key', code: 'E_NO_KEY' } } : { value: `did ${c.op}` }));
    a.channel.send(task('r1', { op: 'ctx' }));
    const res = await a.next('result');
    const calls = a.messages.filter((m) => m.type === 'call');
    expect(calls.map((c) => [c.op, c.args])).toEqual([
      ['bus.send', { to: 'peer', payload: { n: 1 } }],
      ['bus.receive', { timeout_ms: 50 }],
      ['bus.receive_many', { timeout_ms: 50, max: 3 }],
      ['bus.publish', { topic: 't', payload: 1 }],
      ['bus.subscribe', { topic: 't' }],
      ['bus.unsubscribe', { topic: 't' }],
      ['bus.broadcast', { payload: 'hi' }],
      ['memory.get', { key: 'k' }],
      ['memory.set', { key: 'k', value: [1, 2] }],
      ['memory.delete', { key: 'k' }],
      ['memory.list', { prefix: 'pre' }],
      ['memory.context', { budget: 100 }],
      ['memory.local.get', { key: 'l' }],
      ['memory.local.set', { key: 'l', value: 2 }],
      ['memory.local.keys', undefined],
      ['tokens.count', { text: 'hello world' }],
      ['kv.create', { tokens: [1, 2, 3] }],
      ['kv.append', { seq: 's1', tokens: [4] }],
      ['kv.fork', { seq: 's1' }],
      ['kv.free', { seq: 's2' }],
      ['kv.read', { seq: 's1', start: 0, end: 2 }],
      ['kv.stats', undefined],
      ['task.spawn', { id: 'child', agent: 'worker', deps: ['a'], input: { x: 1 } }],
      ['task.wait', { tasks: ['child'], until: 'first' }],
      ['task.cancel', { tasks: ['child'], reason: 'done' }],
      ['llm.chat', { messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }],
    ]);
    expect(calls.every((c) => c.requestId === 'r1')).toBe(true);
    expect(new Set(calls.map((c) => c.callId)).size).toBe(calls.length);
    const out = res.output as unknown[][];
    expect(out.find((r) => r[0] === 'memory.get')).toEqual(['memory.get', 'error', 'E_NO_KEY', 'no such key [E_NO_KEY]', 'SyscallError', 'memory.get']);
    expect(out.find((r) => r[0] === 'kv.stats')).toEqual(['kv.stats', 'ok', 'did kv.stats']);
  });

  it('replies out of order reach the right blocked caller (threads calling at once)', async () => {
    const a = startPythonAgent('handler.py');
    await a.next('ready');
    const held: Array<Record<string, unknown>> = [];
    a.channel.send(task('r1', { op: 'threads' }));
    await a.next(() => a.messages.filter((m) => m.type === 'call').length === 4);
    for (const c of a.messages.filter((m) => m.type === 'call')) held.push(c);
    for (const c of held.reverse()) a.channel.send({ type: 'reply', callId: c.callId, ok: true, value: `v-${(c.args as { key: string }).key}` });
    expect((await a.next('result')).output).toEqual(['v-k0', 'v-k1', 'v-k2', 'v-k3']);
  });

  it('async def handlers and returned coroutines work with the same blocking calls', async () => {
    const a = startPythonAgent('async_handler.py');
    await a.next('ready');
    a.answerCalls(() => ({ value: 42 }));
    a.channel.send(task('r1', null));
    expect((await a.next('result')).output).toEqual({ async: true, value: 42 });
    expect(a.messages.find((m) => m.type === 'log')).toMatchObject({ requestId: 'r1', level: 'info', msg: 'async handler ran' });
    const b = startPythonAgent('handler.py');
    await b.next('ready');
    b.channel.send(task('r2', { op: 'async', value: 7 }));
    expect((await b.next('result')).output).toEqual({ async: true, value: 7 });
  });

  it('log frames carry level, msg and data, in order, before the result', async () => {
    const a = startPythonAgent('handler.py');
    await a.next('ready');
    a.channel.send(task('r1', { op: 'log', n: 2000 }));
    await a.next('result');
    const logs = a.messages.filter((m) => m.type === 'log');
    expect(logs).toHaveLength(2000);
    expect(logs[0]).toEqual({ type: 'log', requestId: 'r1', level: 'info', msg: 'line 0' });
    expect(logs[1]).toEqual({ type: 'log', requestId: 'r1', level: 'warn', msg: 'line 1', data: { i: 1 } });
    expect(logs.every((l, i) => l.msg === `line ${i}`)).toBe(true);
  });

  it('a raised exception is an `exception` result with the Python traceback and the code', async () => {
    const a = startPythonAgent('handler.py');
    await a.next('ready');
    a.channel.send(task('r1', { op: 'raise' }));
    const res = await a.next('result');
    expect(res).toMatchObject({ ok: false, kind: 'exception', error: { name: 'Custom', message: 'fixture failure: value out of range', code: 'E_FIXTURE' } });
    const stack = (res.error as { stack: string }).stack;
    expect(stack).toMatch(/^Traceback \(most recent call last\):/);
    expect(stack).toMatch(/handler\.py", line \d+, in handle/);
    // The process survives its handler's exception and serves the next task.
    a.channel.send(task('r2', { op: 'echo', value: 1 }));
    expect((await a.next((m) => m.type === 'result' && m.requestId === 'r2')).ok).toBe(true);
  });

  it.each([
    ['set', /not JSON-serialisable.*set/],
    ['nan', /not JSON-serialisable.*Out of range float/],
  ])('output %s is invalid_output, never a protocol violation', async (op, message) => {
    const a = startPythonAgent('handler.py');
    await a.next('ready');
    a.channel.send(task('r1', { op }));
    const res = await a.next('result');
    expect(res).toMatchObject({ ok: false, kind: 'invalid_output' });
    expect((res.error as { message: string }).message).toMatch(message);
    expect(a.violations).toEqual([]);
  });

  it('an output over AGENTOS_MAX_FRAME_BYTES is refused by the SDK as invalid_output', async () => {
    const a = startPythonAgent('handler.py', { AGENTOS_MAX_FRAME_BYTES: '100000' }, { maxFrameBytes: 100_000 });
    await a.next('ready');
    a.channel.send(task('r1', { op: 'big', bytes: 200_000 }));
    const res = await a.next('result');
    expect(res).toMatchObject({ ok: false, kind: 'invalid_output' });
    expect((res.error as { message: string }).message).toMatch(/over the 100000-byte channel limit/);
    expect(a.violations).toEqual([]);
  });

  it.each([
    ['broken_handler.py', 'ImportError', /missing dependency 'nonexistent_pkg'/],
    ['no_handle.py', 'TypeError', /defines no handle\(input, ctx\) function/],
    ['does_not_exist.py', 'FileNotFoundError', /does_not_exist\.py/],
  ])('%s: init_failed with the error, then exit 78', async (file, name, message) => {
    const a = startPythonAgent(file);
    const m = await a.next('init_failed');
    expect((m.error as { name: string }).name).toBe(name);
    expect((m.error as { message: string }).message).toMatch(message);
    expect(await a.exited).toEqual({ code: 78, signal: null });
  });

  it('EOF from the kernel: the agent exits at once, even inside a busy loop', async () => {
    const a = startPythonAgent('handler.py');
    await a.next('ready');
    a.channel.send(task('r1', { op: 'echo' }, { inject: 'hang' }));
    await waitBusy(a.pid); // the handler is spinning: only the reader thread can notice the EOF
    a.channel.close();
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(pidAlive(a.pid)).toBe(false);
  });

  it('the SDK-free example agent of docs/protocol.md works as documented (at most 20 lines)', async () => {
    const doc = readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8');
    const code = /## An agent without any SDK[\s\S]*?```python\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(code).toBeDefined();
    expect(code!.trimEnd().split('\n').length).toBeLessThanOrEqual(20);
    const file = join(tempDir(), 'agent.py');
    writeFileSync(file, code!);
    const a = startAgent(PYTHON, [file], {});
    expect(await a.next('ready')).toMatchObject({ type: 'ready', pid: a.pid, protocol: 1, runtime: 'python' });
    a.channel.send(task('r1', 'hello'));
    expect(await a.next('result')).toEqual({ type: 'result', requestId: 'r1', taskId: 't-r1', ok: true, output: { upper: 'HELLO' } });
    expect(a.messages.find((m) => m.type === 'log')).toEqual({ type: 'log', requestId: 'r1', level: 'info', msg: 'working' });
    a.channel.close();
    expect(await a.exited).toEqual({ code: 0, signal: null });
  });

  it('the SDK unit tests pass (python3 -m unittest)', () => {
    const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', 'sdk/python/tests', '-t', 'sdk/python'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^OK$/m);
  });

  it('shutdown: exits 0, and what the handler printed is on fd 1 (line-buffered, not lost)', async () => {
    const a = startPythonAgent('handler.py');
    await a.next('ready');
    a.channel.send(task('r1', { op: 'print', value: 42 }));
    expect(await a.next('result')).toMatchObject({ ok: true, output: null });
    a.channel.send({ type: 'shutdown' });
    expect(await a.exited).toEqual({ code: 0, signal: null });
    expect(a.stdout()).toBe('printed 42\n');
  });

  describe('injected faults are committed inside the Python process', () => {
    it('crash: os.abort() -> SIGABRT, no result', async () => {
      const a = startPythonAgent('handler.py');
      await a.next('ready');
      a.channel.send(task('r1', { op: 'echo' }, { inject: 'crash' }));
      expect(await a.exited).toEqual({ code: null, signal: 'SIGABRT' });
      expect(a.messages.some((m) => m.type === 'result')).toBe(false);
    });

    it('exit: exits 0 without a result', async () => {
      const a = startPythonAgent('handler.py');
      await a.next('ready');
      a.channel.send(task('r1', { op: 'echo' }, { inject: 'exit' }));
      expect(await a.exited).toEqual({ code: 0, signal: null });
      expect(a.messages.some((m) => m.type === 'result')).toBe(false);
    });

    it('hang: no result; the test ends it by process group', async () => {
      const a = startPythonAgent('handler.py');
      await a.next('ready');
      a.channel.send(task('r1', { op: 'echo' }, { inject: 'hang' }));
      await waitBusy(a.pid);
      expect(pidAlive(a.pid)).toBe(true);
      process.kill(-a.pid, 'SIGKILL');
      expect(await a.exited).toEqual({ code: null, signal: 'SIGKILL' });
      expect(a.messages.some((m) => m.type === 'result')).toBe(false);
    });

    it('throw: an exception result with the traceback', async () => {
      const a = startPythonAgent('handler.py');
      await a.next('ready');
      a.channel.send(task('r1', { op: 'echo' }, { inject: 'throw' }));
      const res = await a.next('result');
      expect(res).toMatchObject({ ok: false, kind: 'exception', error: { name: 'RuntimeError', message: 'injected fault: throw' } });
      expect((res.error as { stack: string }).stack).toMatch(/Traceback[\s\S]*_faults\.py[\s\S]*RuntimeError: injected fault: throw/);
    });

    it('garbage: non-JSON bytes on the channel -> one violation, reading stops', async () => {
      const a = startPythonAgent('handler.py');
      await a.next('ready');
      a.channel.send(task('r1', { op: 'echo' }, { inject: 'garbage' }));
      await a.exited; // the kernel side hung up on the violation: EPIPE/EOF ends the agent by itself
      expect(a.violations).toHaveLength(1);
      expect(a.violations[0]).toMatch(/^not JSON/);
    });

    it('oom: memory grows until the limit (ulimit -v 256 MiB here), then dies with MemoryError on stderr', async () => {
      const a = startPythonAgent('handler.py', {}, { ulimitKb: 256 * 1024 });
      await a.next('ready');
      a.channel.send(task('r1', { op: 'echo' }, { inject: 'oom' }));
      expect(await a.exited).toEqual({ code: null, signal: 'SIGABRT' });
      expect(a.stderr()).toMatch(/MemoryError: injected oom: allocation refused after \d+ MiB/);
    });
  });
});
