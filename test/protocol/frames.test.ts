/** Unit tests of the framing (src/protocol/frames.ts) and of KernelChannel on an in-memory duplex. */
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KernelChannel, type ChannelMessage } from '../../src/protocol/channel.js';
import { LineSplitter, decodeFrame } from '../../src/protocol/frames.js';

function splitter(max: number, stopAfter?: number) {
  const lines: string[] = [];
  const overflows: number[] = [];
  const s = new LineSplitter(max, {
    line(text) {
      lines.push(text);
      return stopAfter === undefined || lines.length % stopAfter !== 0;
    },
    overflow: (n) => overflows.push(n),
  });
  return { s, lines, overflows };
}

describe('LineSplitter', () => {
  it('splits lines across chunks, including a multi-byte character cut in half', () => {
    const { s, lines } = splitter(100);
    const bytes = Buffer.from('{"a":"é"}\n{"b":2}\n{"c":"€');
    for (let i = 0; i < bytes.length; i += 3) s.push(bytes.subarray(i, i + 3));
    s.push(Buffer.from('"}\n'));
    expect(lines).toEqual(['{"a":"é"}', '{"b":2}', '{"c":"€"}']);
    expect(s.partialBytes).toBe(0);
  });

  it('a line of exactly the limit passes; one byte more overflows before its newline arrives', () => {
    const ok = splitter(10);
    ok.s.push(Buffer.from('0123456789\n'));
    expect(ok.lines).toEqual(['0123456789']);
    const over = splitter(10);
    over.s.push(Buffer.from('01234'));
    over.s.push(Buffer.from('567890')); // 11 bytes, no newline yet
    expect(over.overflows).toEqual([11]);
    expect(over.s.push(Buffer.from('\n{}\n'))).toBe(false); // stopped for good: nothing more is parsed
    expect(over.lines).toEqual([]);
  });

  it('a stop from the sink holds the rest of the chunk until resume()', () => {
    const { s, lines } = splitter(100, 2);
    expect(s.push(Buffer.from('a\nb\nc\nd\ne'))).toBe(false);
    expect(lines).toEqual(['a', 'b']);
    expect(s.resume()).toBe(false); // c, d, then stops again
    expect(lines).toEqual(['a', 'b', 'c', 'd']);
    expect(s.resume()).toBe(true);
    s.push(Buffer.from('\n'));
    expect(lines).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('a long line in many small chunks is joined once (linear), not re-concatenated per chunk', () => {
    const { s, lines } = splitter(10_000_000);
    const piece = Buffer.alloc(100, 0x61);
    for (let i = 0; i < 50_000; i++) s.push(piece);
    expect(s.partialBytes).toBe(5_000_000);
    s.push(Buffer.from('\n'));
    expect(lines[0]!.length).toBe(5_000_000);
  });
});

describe('decodeFrame', () => {
  it.each([
    ['{"type":"ready"}', true, ''],
    ['not json', false, 'not JSON'],
    ['', false, 'not JSON'],
    ['[1,2]', false, 'not a JSON object'],
    ['null', false, 'not a JSON object'],
    ['"str"', false, 'not a JSON object'],
    ['{"type":3}', false, 'without a string "type"'],
    ['{"cmd":"NODE_HANDLE"}', false, 'without a string "type"'],
  ])('%s', (line, ok, reason) => {
    const d = decodeFrame(line);
    expect(d.ok).toBe(ok);
    if (!d.ok) expect(d.reason).toContain(reason);
  });
});

/** A duplex whose writes are recorded and whose readable side the test feeds. */
function fakeSocket(writeOk = true) {
  const writes: string[] = [];
  let drainCb: (() => void) | undefined;
  const d = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk.toString());
      if (writeOk) cb();
      else drainCb = cb;
    },
    highWaterMark: 16,
  });
  return { d, writes, drain: () => drainCb?.() };
}

describe('KernelChannel', () => {
  it('writes the first send of a tick at once and joins the rest of the tick into one write', async () => {
    const { d, writes } = fakeSocket();
    const ch = new KernelChannel(d, { onMessage() {}, onViolation() {} });
    for (let i = 0; i < 5; i++) ch.send({ type: 'reply', callId: i, ok: true });
    expect(writes).toEqual(['{"type":"reply","callId":0,"ok":true}\n']);
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(2);
    expect(writes[1]!.split('\n')).toHaveLength(5);
    expect(ch.stats.framesOut).toBe(5);
    expect(ch.stats.bytesOut).toBe(Buffer.byteLength(writes.join('')));
  });

  it('queues behind backpressure and writes the queue on drain, in order', async () => {
    const { d, writes, drain } = fakeSocket(false);
    const ch = new KernelChannel(d, { onMessage() {}, onViolation() {} });
    expect(ch.send({ type: 'task', n: 0, pad: 'x'.repeat(64) })).toBe(false); // over the 16-byte buffer
    expect(ch.send({ type: 'task', n: 1 })).toBe(false);
    ch.send({ type: 'task', n: 2 });
    await new Promise((r) => setImmediate(r));
    expect(writes).toHaveLength(1);
    expect(ch.queuedFrames).toBe(2);
    drain();
    await new Promise((r) => setImmediate(r));
    expect(writes.slice(1).join('')).toBe('{"type":"task","n":1}\n{"type":"task","n":2}\n');
    expect(ch.stats.backpressureWaits).toBe(2); // both writes were over the 16-byte buffer
  });

  it('stops reading while its writes wait for drain, and while any pause reason holds', async () => {
    const { d, drain } = fakeSocket(false);
    const got: ChannelMessage[] = [];
    const ch = new KernelChannel(d, { onMessage: (m) => got.push(m), onViolation() {} });
    ch.send({ type: 'reply', callId: 1, ok: true, pad: 'x'.repeat(64) }); // over the buffer: waits for drain
    d.push('{"type":"log","n":1}\n');
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([]); // an agent that does not read its replies is not read either
    expect(ch.stats.pauses).toBe(1);
    ch.pause('sinks'); // a second, independent hold
    drain();
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([]);
    ch.resume('sinks');
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([{ type: 'log', n: 1 }]);
  });

  it('a callback that throws is reported, never thrown into the event loop; the next lines still arrive', () => {
    const { d } = fakeSocket();
    const got: ChannelMessage[] = [];
    const errors: Error[] = [];
    const ch = new KernelChannel(d, {
      onMessage(m) {
        got.push(m);
        if (got.length === 1) throw new Error('kernel bug');
      },
      onViolation() {},
      onError: (e) => errors.push(e),
    });
    d.push(Buffer.from('{"type":"a"}\n{"type":"b"}\n'));
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        expect(got.map((m) => m.type)).toEqual(['a', 'b']);
        expect(errors.map((e) => e.message)).toEqual(['kernel bug']);
        expect(ch.stats.framesIn).toBe(2);
        resolve();
      }),
    );
  });

  it('after a violation nothing more is delivered, even later lines of the same chunk', async () => {
    const { d } = fakeSocket();
    const got: string[] = [];
    const violations: string[] = [];
    let closes = 0;
    const ch = new KernelChannel(d, { onMessage: (m) => got.push(m.type), onViolation: (r) => violations.push(r), onClose: () => closes++ });
    d.push(Buffer.from('{"type":"a"}\n[]\n{"type":"b"}\n'));
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(['a']);
    expect(violations).toEqual(['not a JSON object: "[]"']);
    expect(ch.stats).toMatchObject({ framesIn: 1, violations: 1 });
    expect(ch.closed).toBe(true);
    expect(closes).toBe(1);
  });
});
