/**
 * The raw-IPC baseline's child: no kernel, no bus. role=tx sends messages to the parent (which relays them
 * to the rx child); role=rx counts them. Same serialization (json) and topology as agent -> kernel -> agent.
 */
const now = (): number => performance.timeOrigin + performance.now();
const role = process.argv[2];
const send = process.send!.bind(process) as (m: unknown) => boolean;
process.on('disconnect', () => process.exit(0));

let count = 0;
let expected = 0;
let pendingPong: (() => void) | undefined;
process.on('message', (m: { cmd: string; count?: number; rounds?: number; window?: number; pad?: string }) => {
  if (role === 'rx') {
    if (m.cmd === 'start') {
      expected = m.count!;
      count = 0;
      send({ cmd: 'ready' });
    } else if (m.cmd === 'msg' && ++count === expected) send({ cmd: 'done', t_end: now() });
    else if (m.cmd === 'ping') send({ cmd: 'pong' });
    return;
  }
  if (m.cmd === 'go') void throughput(m.count!, m.pad!);
  else if (m.cmd === 'pingpong') void pingpong(m.rounds!);
  else if (m.cmd === 'pong') pendingPong?.();
});

async function throughput(n: number, pad: string): Promise<void> {
  const t0 = now();
  for (let i = 0; i < n; i++) {
    // respect the channel's backpressure like a real sender would
    if (!send({ cmd: 'msg', i, pad })) await new Promise((r) => setImmediate(r));
  }
  send({ cmd: 'sent', t0 });
}

async function pingpong(rounds: number): Promise<void> {
  const rtt: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = performance.now();
    await new Promise<void>((resolve) => {
      pendingPong = resolve;
      send({ cmd: 'ping', i });
    });
    rtt.push(performance.now() - t);
  }
  send({ cmd: 'rtt', rtt });
}
