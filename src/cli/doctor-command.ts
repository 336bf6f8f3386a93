/**
 * `agentos doctor`: what this machine gives AgentOS (see src/platform/probe.ts), one line per check with
 * the fix for each missing piece. Always exits 0: a missing piece means a fallback, not an error.
 */
import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { probePlatform, type CheckStatus } from '../platform/probe.js';
import { EXIT, type Io } from './run-command.js';

export const DOCTOR_USAGE = `usage: agentos doctor [--json]
  checks what this machine gives AgentOS: Node version, /proc, cgroup containment (cgroup.kill, memory and
  pids controllers, root or a delegated subtree), the Node permission model, Chromium, redis-server,
  python3; prints the fix for each missing piece (exit 0)
  --json    print the full probe as JSON`;

const MARK: Record<CheckStatus, string> = { ok: 'ok  ', missing: 'MISS', warn: 'WARN', info: '    ' };

export function doctorCommand(argv: string[], io: Io): number {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { json: { type: 'boolean' } } }));
  } catch (err) {
    throw new InputError('E_USAGE', `${(err as Error).message}\n${DOCTOR_USAGE}`);
  }
  const report = probePlatform();
  if (values.json) {
    io.out(JSON.stringify(report, null, 2));
    return EXIT.ok;
  }
  io.out(`agentos doctor: ${report.os.pretty ?? report.os.platform}, kernel ${report.os.release}, Node ${report.node}`);
  for (const c of report.checks) {
    io.out(`  [${MARK[c.status]}] ${c.id.padEnd(18)} ${c.detail}`);
    if (c.fix) io.out(`         ${' '.repeat(18)} fix: ${c.fix}`);
  }
  const u = report.cgroups.use;
  io.out(`agents are contained by: ${u.kill === 'cgroup.kill' ? 'cgroup.kill' : 'process groups + a /proc walk (best effort)'}; memory quota: ${u.memory === 'none' ? 'sampled RSS' : `cgroup ${u.memory}`}; pids limit: ${u.pids === 'none' ? 'none' : `cgroup ${u.pids}`}`);
  return EXIT.ok;
}
