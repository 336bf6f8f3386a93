/**
 * Self-test of the network lab (./netns.ts), as root only: Redis in one namespace, redis-cli in another
 * reaches it over the lab's bridge; with the client's bridge port down it cannot; up again, it can.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pidAlive } from '../helpers.js';
import { NetLab, netnsUnavailable } from './netns.js';
import { redisServerPath, startRedis, stopAllRedis } from './redis.js';

const REDIS = redisServerPath();
const why = netnsUnavailable();
const CLI = REDIS ? join(dirname(REDIS), 'redis-cli') : '';
let lab: NetLab | null = null;

afterAll(async () => {
  await stopAllRedis();
  const prefix = lab?.prefix;
  await lab?.destroy();
  if (prefix) expect(NetLab.existing(prefix)).toEqual([]);
});

describe.skipIf(!REDIS || why !== null || !existsSync(CLI))('network lab', () => {
  it('a host reaches Redis in another namespace; link down cuts it off; link up joins it again', async () => {
    lab = await NetLab.create(['redis', 'n1', 'n2']);
    const l = lab;
    const port = 6390;
    const ping = async (from: string): Promise<string> => (await l.run(from, CLI, ['-h', l.addr('redis'), '-p', String(port), 'PING'], 2000)).stdout.trim();
    const redis = await startRedis({ bind: l.addr('redis'), port, wrap: l.wrap('redis'), ready: async () => (await ping('redis')) === 'PONG' });
    expect(await ping('n1')).toBe('PONG');
    expect(await ping('n2')).toBe('PONG');

    await l.linkDown('n1');
    expect(await ping('n1')).not.toBe('PONG');
    expect(await ping('n2')).toBe('PONG');

    await l.linkUp('n1');
    // Poll: the port needs a moment to come up and forward. A ping that hangs (no route) is killed after 2 s.
    let answer = await ping('n1');
    const t0 = Date.now();
    while (answer !== 'PONG' && Date.now() - t0 < 10_000) answer = await ping('n1');
    expect(answer).toBe('PONG');
    const pid = redis.pid();
    await redis.destroy();
    expect(pidAlive(pid)).toBe(false);
  });
});
