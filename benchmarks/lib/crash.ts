/**
 * Crash -> retry through a real kernel, on the `crashy` agent (aborts on a task's first attempt):
 *   exit_to_retry   the kernel sees the process exit -> the retry attempt is running
 *   start_to_retry  the first attempt is running -> the retry attempt is running (includes sending the
 *                   task, the abort itself and the kernel noticing it: the peer of PM2's crash command ->
 *                   restarted-and-ready, peers/pm2.ts)
 * `instances: 1, standby: 0` is the respawn path, `instances: 2` a busy-free sibling, `standby: 1` a warm spare.
 */
import { join } from 'node:path';
import { AgentRegistry } from '../../src/config/registry.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { PACKAGE_ROOT } from '../../src/paths.js';

const AGENTS = join(PACKAGE_ROOT, 'benchmarks/agents');

export interface CrashSeries {
  exit_to_retry: number[];
  start_to_retry: number[];
}

export async function crashToRetry(runsDir: string, o: { instances: number; standby: number; crashes: number }): Promise<CrashSeries> {
  const registry = new AgentRegistry([AGENTS]);
  Object.assign(registry.get('crashy'), { instances: o.instances, standby: o.standby });
  const k = new Kernel({ registry, runsDir, concurrency: 8, maxDynamicTasks: Number.MAX_SAFE_INTEGER });
  await k.start(['crashy']);
  const out: CrashSeries = { exit_to_retry: [], start_to_retry: [] };
  let exitAt = 0;
  let firstAt = 0;
  const off = k.events.on((e) => {
    if (e.type === 'process.exited' && e.agent === 'crashy') exitAt = e.t;
    if (e.type === 'task.state' && e.state === 'running' && e.attempt === 1) firstAt = e.t;
    if (e.type === 'task.state' && e.state === 'running' && e.attempt === 2) {
      out.exit_to_retry.push(e.t - exitAt);
      out.start_to_retry.push(e.t - firstAt);
    }
  });
  const warm = o.instances + o.standby;
  try {
    for (let i = 0; i < o.crashes; i++) {
      const rec = await k.submit({ id: `c${i}`, agent: 'crashy', input: { crash: true } });
      if (rec.state !== 'succeeded' || rec.attempts !== 2) throw new Error(`crash task ${rec.id}: ${rec.state} after ${rec.attempts}`);
      // let the pool replace the dead process (a spare included), so every crash starts from the same warm state
      await new Promise<void>((resolve) => {
        const check = (): void => (k.table.live().filter((a) => a.state === 'idle').length >= warm ? resolve() : void setTimeout(check, 5));
        check();
      });
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    off();
    await k.shutdown();
  }
  return out;
}
