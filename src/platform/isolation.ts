/**
 * OS isolation of an agent (agent.yaml `isolation: pid`, docs/sandbox.md): the agent runs in a new PID
 * namespace made by util-linux `unshare`, under a shell as the namespace's init. Inside, the agent sees
 * only its own namespace: its parent pid is 0, and no pid of the kernel, the reaper or another agent can
 * be named, so none can be signalled (Node's permission model does not stop `process.kill`).
 *
 *   unshare --pid --fork --kill-child --mount-proc [--user --map-root-user] -- /bin/sh -c SCRIPT sh <cmd...>
 *
 * Why a shell as init (pid 1 of the namespace) and the agent as its child (pid 2): the kernel ignores
 * signals without a handler for a namespace's init, so a Node agent as pid 1 would not die of SIGTERM
 * or of its own SIGABRT/SIGKILL. The shell waits for the agent and exits with its status; a death by
 * signal N comes out as code 128 + N (the shell, being init, cannot re-raise it), which the kernel maps
 * back (isolatedExit). When the init exits, every process left in the namespace is killed by the OS.
 */
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { onPath } from './tools.js';

/** Whether PID isolation works on this machine, and how it is started. */
export interface IsolationSupport {
  ok: boolean;
  /** unshare's flags (before `--`), when ok. */
  flags: string[];
  /** What was found: the unshare used, or why it does not work. */
  detail: string;
  /** What to do when it does not work. */
  fix?: string;
}

/** The init script: start the agent, wait for it, exit with its status (128 + N for a signal N). */
const INIT_SCRIPT = '"$@" & wait $!';

let cached: IsolationSupport | undefined;

/** Probe once per process (a ~5-20 ms `unshare ... true`); the result is cached. */
export function pidIsolation(): IsolationSupport {
  if (cached) return cached;
  const unshare = onPath('unshare');
  if (process.platform !== 'linux' || !unshare) {
    cached = { ok: false, flags: [], detail: process.platform !== 'linux' ? `PID namespaces need Linux (this is ${process.platform})` : 'util-linux unshare is not on PATH', fix: 'install util-linux (apt install util-linux) on Linux, or drop `isolation: pid` from agent.yaml' };
    return cached;
  }
  const root = process.getuid?.() === 0;
  const flags = ['--pid', '--fork', '--kill-child', '--mount-proc', ...(root ? [] : ['--user', '--map-root-user'])];
  const r = spawnSync(unshare, [...flags, '--', '/bin/sh', '-c', 'test "$$" = 1'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'ignore', 'pipe'] });
  cached =
    r.status === 0
      ? { ok: true, flags, detail: `${unshare} ${flags.join(' ')}${root ? '' : ' (user namespace: not root)'}` }
      : { ok: false, flags: [], detail: `${unshare} cannot make a PID namespace here: ${(r.stderr ?? r.error?.message ?? '').trim().split('\n')[0] || `exit ${r.status}`}`, fix: root ? 'run on a kernel with PID namespaces (CONFIG_PID_NS), outside a container that forbids unshare' : 'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0) or run as root' };
  return cached;
}

/** The command that runs `file args` isolated (pidIsolation().ok must be true). */
export function isolatedCommand(file: string, args: string[]): { file: string; args: string[] } {
  const s = pidIsolation();
  return { file: onPath('unshare') ?? 'unshare', args: [...s.flags, '--', '/bin/sh', '-c', INIT_SCRIPT, 'sh', file, ...args] };
}

/** The exit of an isolated agent as the agent's own: code 128 + N from the init shell is signal N. */
export function isolatedExit(code: number | null, signal: NodeJS.Signals | null): { code: number | null; signal: NodeJS.Signals | null } {
  if (signal || code === null || code <= 128 || code >= 128 + 65) return { code, signal };
  const n = code - 128;
  const name = (Object.keys(constants.signals) as NodeJS.Signals[]).find((k) => constants.signals[k] === n);
  return name ? { code: null, signal: name } : { code, signal };
}
