/**
 * The reaper: one small idle process per kernel that remembers every agent process group. When its IPC
 * channel closes (the kernel exited, or was SIGKILLed) it SIGKILLs every group still tracked. Agent
 * processes also exit on disconnect, but a busy-looping one never sees that event; the reaper does.
 */
import { ENV } from '../src/protocol/messages.js';

interface ReaperMessage {
  type: 'track' | 'untrack';
  pgid: number;
}

if (typeof process.send !== 'function') {
  process.stderr.write('agentos reaper: start me through the AgentOS kernel (no IPC channel).\n');
  process.exit(64);
}

process.title = `agentos-reaper run=${process.env[ENV.run] ?? '?'}`;
const groups = new Set<number>();

// The kernel decides when agents stop; a Ctrl-C in the terminal must not take the reaper first.
process.on('SIGINT', () => {});

process.on('message', (m: ReaperMessage) => {
  if (!m || typeof m.pgid !== 'number' || !Number.isInteger(m.pgid) || m.pgid <= 1) return;
  if (m.type === 'track') groups.add(m.pgid);
  else if (m.type === 'untrack') groups.delete(m.pgid);
});

process.on('disconnect', () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  process.exit(0);
});
