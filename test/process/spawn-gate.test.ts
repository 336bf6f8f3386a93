/** The spawn gate (process/spawn-gate.ts): at most `limit` starts at once, replacements first in line. */
import { describe, expect, it } from 'vitest';
import { Deque } from '../../src/lib/deque.js';
import { SpawnGate } from '../../src/process/spawn-gate.js';

describe('spawn gate', () => {
  it('grants `limit` turns at once, then one per turn given back; an urgent start goes first', async () => {
    const gate = new SpawnGate(2);
    const order: string[] = [];
    const take = (name: string, urgent = false) => gate.acquire(urgent).then((done) => (order.push(name), done));
    const a = take('a');
    const b = take('b');
    const c = take('c');
    const d = take('d');
    const doneA = await a;
    const doneB = await b;
    expect(order).toEqual(['a', 'b']);
    expect(gate.queued).toBe(2);
    const r = take('replacement', true);
    doneA();
    doneA(); // idempotent: one turn given back once
    await r;
    expect(order).toEqual(['a', 'b', 'replacement']);
    expect(gate.queued).toBe(2);
    doneB();
    await c;
    expect(order.at(-1)).toBe('c');
    (await r)();
    await d;
    expect(order).toEqual(['a', 'b', 'replacement', 'c', 'd']);
  });

  it('the deque keeps FIFO order with unshift across its compaction', () => {
    const q = new Deque<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    for (let i = 0; i < 3000; i++) expect(q.shift()).toBe(i);
    q.unshift(-1);
    expect(q.length).toBe(2001);
    expect(q.shift()).toBe(-1);
    expect(q.shift()).toBe(3000);
    expect(q.drain()).toHaveLength(1999);
    expect(q.shift()).toBeUndefined();
  });
});
