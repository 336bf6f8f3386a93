/** What /proc says about one process (Linux); used where an event may still be on its way. */
import { existsSync, readFileSync } from 'node:fs';

const HAS_PROC = existsSync('/proc/self/stat');

/**
 * True when the process is exiting or gone (a zombie, or already reaped): its exit event is on its way,
 * so the kernel should wait for it rather than act. False while it runs, and always without /proc.
 */
export function exiting(pid: number): boolean {
  if (!HAS_PROC || pid <= 0) return false;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true; // reaped already
  }
  // The state letter follows the command name, which may itself hold ')' — so search from the end.
  const at = stat.lastIndexOf(')') + 2;
  const state = stat.charAt(at);
  return state === 'Z' || state === 'X';
}
