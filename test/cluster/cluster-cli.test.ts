/**
 * Cluster commands refuse bad input with exit 2 and a message naming the flag, before touching Redis,
 * and never print a password given in the URL. Needs no redis-server.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from './lab.js';

const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 30_000 });

describe('cluster commands: bad input', () => {
  it.each([
    [['node'], /--cluster URL is required/],
    [['node', '--cluster', 'redis://127.0.0.1:1', '--capacity-mb', '-3'], /--capacity-mb/],
    [['run', 'plan.yaml', '--cluster', 'redis://127.0.0.1:1', '--min-nodes', '0'], /--min-nodes must be at least 1/],
    [['run', 'plan.yaml', '--cluster', 'redis://127.0.0.1:1', '--lock-ms', 'soon'], /--lock-ms must be a number/],
    [['resume', 'abc123', '--cluster', 'redis://127.0.0.1:1', '--inject', 'a:crash'], /--inject is for a new run/],
  ])('agentos %j exits 2', (args, re) => {
    const r = run(args as string[]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(re as RegExp);
  });

  it('never prints the password of the URL', () => {
    const r = run(['run', 'plan.yaml', '--cluster', 'redis://:hunter2secret@127.0.0.1:1', '--min-nodes', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr + r.stdout).not.toContain('hunter2secret');
  });
});
