/** Drive AgentOS the way a user does: the real `agentos stress` command, its JSON report parsed. */
import { execa } from 'execa';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/paths.js';
import type { StressReport } from '../../src/stress/report.js';

export const CLI = join(PACKAGE_ROOT, 'dist/src/cli/main.js');

export interface StressArgs {
  agents: number;
  tasks: number;
  faultRate?: number;
  faults?: string;
  cpuMs?: number;
  waitMs?: number;
  cpuShare?: number;
  timeoutMs?: number;
  runsDir: string;
}

export function stressArgv(a: StressArgs): string[] {
  const argv = ['stress', '--agents', String(a.agents), '--tasks', String(a.tasks), '--json', '--quiet', '--runs-dir', a.runsDir];
  if (a.faultRate !== undefined) argv.push('--fault-rate', String(a.faultRate));
  if (a.faults) argv.push('--faults', a.faults);
  if (a.cpuMs !== undefined) argv.push('--cpu-ms', String(a.cpuMs));
  if (a.waitMs !== undefined) argv.push('--wait-ms', String(a.waitMs));
  if (a.cpuShare !== undefined) argv.push('--cpu-share', String(a.cpuShare));
  if (a.timeoutMs !== undefined) argv.push('--timeout-ms', String(a.timeoutMs));
  return argv;
}

/** The command line as a user would type it (for "what ran"). */
export function stressCommandLine(a: StressArgs): string {
  return `agentos ${stressArgv(a).filter((x, i, all) => x !== '--json' && x !== '--quiet' && x !== '--runs-dir' && all[i - 1] !== '--runs-dir').join(' ')}`;
}

export async function runStressCli(a: StressArgs): Promise<{ report: StressReport; exitCode: number }> {
  const res = await execa('node', [CLI, ...stressArgv(a)], { reject: false, timeout: 15 * 60_000 });
  if (!res.stdout.trim().startsWith('{')) throw new Error(`agentos stress failed (exit ${res.exitCode}): ${res.stderr.slice(-500)}`);
  return { report: JSON.parse(res.stdout) as StressReport, exitCode: res.exitCode ?? -1 };
}
