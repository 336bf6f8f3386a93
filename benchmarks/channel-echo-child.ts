/**
 * The channel benchmark's Node child (fd 3 via worker/channel.ts): says ready, echoes every `echo` frame,
 * answers `task {n}` by making n sequential syscalls (a handler's view of the round trip), and on
 * `flood {n, garbage}` writes n small frames as fast as the socket takes them.
 */
import { openChannel } from '../worker/channel.js';

const ch = openChannel();
let nextCallId = 1;
let pendingReply: (() => void) | undefined;

async function calls(requestId: string, taskId: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => {
      pendingReply = resolve;
      void ch.send({ type: 'call', callId: nextCallId++, requestId, op: 'bench.ping' });
    });
  }
  void ch.send({ type: 'result', requestId, taskId, ok: true, output: n });
}

async function flood(n: number, garbage: boolean): Promise<void> {
  const line = garbage ? 'garbage garbage garbage\n' : '{"type":"log","requestId":"r","level":"debug","msg":"x"}\n';
  const batch = Buffer.from(line.repeat(10_000));
  for (let sent = 0; sent < n; sent += 10_000) await ch.writeRaw(batch);
  void ch.send({ type: 'flood_done', n });
}

ch.onMessage((m) => {
  if (m.type === 'echo') void ch.send(m);
  else if (m.type === 'reply') pendingReply?.();
  else if (m.type === 'task') void calls(String(m.requestId), String(m.taskId), (m.input as { n: number }).n);
  else if (m.type === 'flood') void flood(Number(m.n), m.garbage === true);
});
void ch.send({ type: 'ready', pid: process.pid, protocol: 1, runtime: 'node' });
