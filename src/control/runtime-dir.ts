/**
 * The per-user runtime directory holding one control socket per running kernel:
 * $AGENTOS_RUNTIME_DIR, else $XDG_RUNTIME_DIR/agentos, else <tmpdir>/agentos-<uid>. Created mode 0700 and
 * checked to be ours (not a symlink, owned by this uid) so another user cannot plant or read sockets.
 */
import { lstatSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function runtimeDir(): string {
  if (process.env.AGENTOS_RUNTIME_DIR) return process.env.AGENTOS_RUNTIME_DIR;
  if (process.env.XDG_RUNTIME_DIR) return join(process.env.XDG_RUNTIME_DIR, 'agentos');
  return join(tmpdir(), `agentos-${process.getuid?.() ?? 'user'}`);
}

/** Create (or check) the runtime directory; throws when it is not safely ours. */
export function ensureRuntimeDir(dir = runtimeDir()): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`runtime directory ${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`runtime directory ${dir} belongs to uid ${st.uid}, not ${uid}`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return dir;
}
