/**
 * The per-user runtime directory holding one control socket per running kernel:
 * $AGENTOS_RUNTIME_DIR, else $XDG_RUNTIME_DIR/agentos, else <tmpdir>/agentos-<uid>. Created mode 0700 and
 * checked to be ours (not a symlink, owned by this uid) so another user cannot plant or read sockets.
 * The default under /tmp is predictable and /tmp is world-writable, so a reader (`agentos ps`) checks the
 * same things before it trusts what it finds there: another user's directory could hide our kernels and
 * show forged ones.
 */
import { chmodSync, lstatSync, mkdirSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';

export function runtimeDir(): string {
  if (process.env.AGENTOS_RUNTIME_DIR) return process.env.AGENTOS_RUNTIME_DIR;
  if (process.env.XDG_RUNTIME_DIR) return join(process.env.XDG_RUNTIME_DIR, 'agentos');
  return join(tmpdir(), `agentos-${process.getuid?.() ?? 'user'}`);
}

const FIX = 'remove it (if it is not yours, ask root) or point AGENTOS_RUNTIME_DIR at a directory of your own with mode 0700';

/** Not a directory, a symlink, or another uid's: the reasons no check can repair. */
function foreign(dir: string, st: Stats): string | undefined {
  if (st.isSymbolicLink()) return `runtime directory ${dir} is a symbolic link; ${FIX}`;
  if (!st.isDirectory()) return `runtime directory ${dir} is not a directory; ${FIX}`;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) return `runtime directory ${dir} belongs to uid ${st.uid}, not to you (uid ${uid}): another user could hide your kernels or show forged ones there; ${FIX}`;
  return undefined;
}

/** Create (or check) the runtime directory for a kernel; a too-open mode of our own is narrowed to 0700. Throws E_RUNTIME_DIR. */
export function ensureRuntimeDir(dir = runtimeDir()): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const why = foreign(dir, st);
  if (why) throw new InputError('E_RUNTIME_DIR', why);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return dir;
}

/**
 * Check the runtime directory before reading it (`agentos ps`, `top`): it must be a real directory owned
 * by this uid with mode 0700. Returns false when it does not exist (no kernel ever ran). Never creates or
 * changes it. Throws InputError E_RUNTIME_DIR with the reason and the fix.
 */
export function checkRuntimeDir(dir = runtimeDir()): boolean {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new InputError('E_RUNTIME_DIR', `runtime directory ${dir}: ${(err as Error).message}`);
  }
  const why = foreign(dir, st);
  if (why) throw new InputError('E_RUNTIME_DIR', why);
  const mode = st.mode & 0o777;
  if (mode !== 0o700) throw new InputError('E_RUNTIME_DIR', `runtime directory ${dir} has mode 0${mode.toString(8)}, not 0700: other users could plant sockets there; fix: chmod 700 ${dir}`);
  return true;
}
