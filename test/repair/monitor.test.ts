import { describe, expect, it } from 'vitest';
import { EventLog, type TimedEvent } from '../../src/kernel-api/events.js';
import { recommend, ResourceMonitor } from '../../src/monitor/resource-monitor.js';

const policy = { min: 2, max: 6, highCpu: 85, lowCpu: 60, minFreeMb: 512 };

describe('resource-aware concurrency', () => {
  it('steps down under CPU pressure, up when idle, drops to the minimum when memory is short', () => {
    expect(recommend(4, { cpu: 95, mem_free_mb: 8000 }, policy)).toMatchObject({ to: 3 });
    expect(recommend(2, { cpu: 95, mem_free_mb: 8000 }, policy)).toMatchObject({ to: 2 });
    expect(recommend(4, { cpu: 20, mem_free_mb: 8000 }, policy)).toMatchObject({ to: 5 });
    expect(recommend(6, { cpu: 20, mem_free_mb: 8000 }, policy)).toMatchObject({ to: 6 });
    expect(recommend(5, { cpu: 70, mem_free_mb: 8000 }, policy)).toMatchObject({ to: 5, reason: 'steady' });
    expect(recommend(6, { cpu: 10, mem_free_mb: 100 }, policy)).toMatchObject({ to: 2 });
  });

  it('samples the real machine and applies its decisions to the queue, within the bounds', async () => {
    const events = new EventLog();
    const seen: TimedEvent[] = [];
    events.on((e) => seen.push(e));
    let concurrency = 3;
    // Thresholds chosen so that any real reading moves concurrency up: the test is about the wiring.
    const m = new ResourceMonitor(events, () => concurrency, (n) => (concurrency = n), { min: 1, max: 5, intervalMs: 50, highCpu: 101, lowCpu: 101, minFreeMb: 0 });
    await m.start();
    try {
      for (let i = 0; i < 5; i++) await m.tick();
    } finally {
      m.stop();
    }
    expect(m.samples.length).toBeGreaterThanOrEqual(2);
    expect(m.samples[0]!.mem_free_mb).toBeGreaterThan(0);
    expect(concurrency).toBe(5);
    expect(m.decisions.map((d) => d.to)).toEqual([4, 5]);
    expect(seen.filter((e) => e.type === 'monitor.decision')).toHaveLength(2);
    expect(() => new ResourceMonitor(events, () => 1, () => {}, { min: 3, max: 2 })).toThrow(RangeError);
  });
});
