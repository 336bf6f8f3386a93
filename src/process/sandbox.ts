/**
 * The tool sandbox: an agent.yaml `sandbox:` section becomes Node permission-model flags for that
 * agent's processes. The child can then read and write only the listed paths and start child processes
 * only when allowed; a denied access throws ERR_ACCESS_DENIED in the handler, which the worker reports
 * as failure kind `sandbox`. Paths may use variables the kernel fills in per run ($RUN_DIR, $WORK, ...).
 * What this does not cover (network on Node 20, children of an allowed spawn): see docs/sandbox.md.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { AgentSpec } from '../config/agent-spec.js';
import { InputError } from '../errors.js';

/** The flag that turns the permission model on: `--permission` where Node has it, else the experimental one. */
export const PERMISSION_FLAG = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';

const VAR = /\$([A-Z_]+)|\$\{([A-Z_]+)\}/g;

export function expandPath(path: string, vars: Readonly<Record<string, string>>, agentFile: string): string {
  const expanded = path.replace(VAR, (_m, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    const value = vars[name];
    if (value === undefined) {
      throw new InputError('E_SCHEMA', `${agentFile}: sandbox path '${path}' uses unknown variable $${name} (known: ${Object.keys(vars).map((k) => `$${k}`).join(', ')}). Fix: use one of those or an absolute path.`, { file: agentFile });
    }
    return value;
  });
  // Relative paths are relative to the agent's directory, like `handler`.
  return isAbsolute(expanded) ? expanded : resolve(dirname(agentFile), expanded);
}

/**
 * Drop paths inside another listed path. Besides being redundant they trip Node 20's permission tree:
 * granting both /a/data and /a/data/repo denies access to /a/data itself.
 */
export function outermost(paths: Iterable<string>): string[] {
  const list = [...new Set([...paths].map((p) => p.replace(/\/+$/, '') || '/'))].sort();
  return list.filter((p) => !list.some((q) => q !== p && (q === '/' || p.startsWith(`${q}/`))));
}

/**
 * Node flags for one agent, or [] when it has no sandbox section. The worker's own code and the agent's
 * directory are always readable (the process could not start otherwise).
 */
export function sandboxFlags(spec: AgentSpec, vars: Readonly<Record<string, string>>): string[] {
  const sb = spec.sandbox;
  if (!sb) return [];
  const read = new Set<string>([vars.PACKAGE!, dirname(spec.file), dirname(spec.handlerPath)].filter(Boolean));
  for (const p of sb.fs_read) read.add(expandPath(p, vars, spec.file));
  const write = new Set<string>(sb.fs_write.map((p) => expandPath(p, vars, spec.file)));
  // Repeated flags (one path each) are what Node 20.16+ and 22 accept; a comma list is read as one path.
  const flags = [PERMISSION_FLAG, ...outermost(read).map((p) => `--allow-fs-read=${p}`), ...outermost(write).map((p) => `--allow-fs-write=${p}`)];
  // The permission model's ExperimentalWarning on every start would bury real stderr (crash messages).
  if (process.allowedNodeEnvironmentFlags.has('--disable-warning')) flags.push('--disable-warning=ExperimentalWarning');
  if (sb.child_process) flags.push('--allow-child-process');
  if (sb.worker_threads) flags.push('--allow-worker');
  return flags;
}
