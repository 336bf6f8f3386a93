/**
 * `agentos demo messages`: the message bus between real agent processes. One plan shows direct messages,
 * a pub/sub topic with three subscribers, a broadcast, backpressure on a slow consumer (mailbox of 2,
 * policy block) and delivery across a crash-and-restart; then the bus figures from the run report.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InputError } from '../errors.js';
import { DEFAULTS } from '../config/defaults.js';
import { EXAMPLES } from '../paths.js';
import { runCommand, type Io } from './run-command.js';

export const MESSAGES_USAGE = `usage: agentos demo messages [--json]
  --json   print the run report's bus section as JSON`;

type Out = Record<string, unknown>;

export async function messagesDemo(args: string[], io: Io): Promise<number> {
  let json = false;
  try {
    json = parseArgs({ args, options: { json: { type: 'boolean' } }, strict: true }).values.json ?? false;
  } catch (err) {
    throw new InputError('E_USAGE', `${(err as Error).message}\n${MESSAGES_USAGE}`);
  }
  const dir = join(EXAMPLES, 'messages');
  if (!json) io.out('AgentOS message bus demo: 8 agents, each a real child process; every message goes through the kernel.');
  const { code, report } = await runCommand(
    {
      plan: join(dir, 'plan.yaml'),
      agents: [join(dir, 'agents')],
      // every task of the plan waits on another: all must run at once
      concurrency: 16,
      inject: [],
      injections: [],
      report: undefined,
      json: false,
      runsDir: DEFAULTS.runsDir,
      sampleMs: DEFAULTS.sampleMs,
      quiet: true,
    },
    io,
  );
  const bus = report.bus;
  if (json) {
    io.out(JSON.stringify({ status: report.status, run_dir: report.run_dir, bus }, null, 2));
    return code;
  }
  const out = (id: string): Out => (report.tasks.find((t) => t.id === id)?.output ?? {}) as Out;
  const listen = out('listen') as { got?: Array<{ seq: number; from: string; line: string }> };
  io.out('');
  io.out('direct      greet -> listen:');
  for (const m of listen.got ?? []) io.out(`              seq ${m.seq} from ${m.from} (stamped by the kernel): "${m.line}"`);
  const desk = out('desk') as { published?: string[][]; broadcast?: string[] };
  io.out(`pub/sub     desk published ${desk.published?.length ?? 0} headlines on 'news'; each reached: ${(desk.published ?? []).map((d) => d.join(', ')).join(' | ')}`);
  for (const r of ['reader-1', 'reader-2', 'reader-3']) {
    const o = out(r) as { slot?: string; got?: Array<{ topic: string; headline: string }> };
    io.out(`              ${r} (${o.slot}): ${(o.got ?? []).map((g) => `[${g.topic}] ${g.headline}`).join('; ')}`);
  }
  io.out(`broadcast   reached ${desk.broadcast?.length ?? 0} live agent instances: ${(desk.broadcast ?? []).join(', ')}`);
  const prod = out('produce') as { waits_ms?: number[]; total_ms?: number };
  const cons = out('consume') as { got?: number[] };
  const blocked = report.bus?.per_agent.slow_consumer;
  io.out(`backpress.  producer -> slow_consumer (mailbox 2, policy block, reads every 40 ms):`);
  io.out(`              send waits (ms): ${(prod.waits_ms ?? []).join(' ')}; total ${prod.total_ms ?? '?'} ms`);
  io.out(`              consumer got ${(cons.got ?? []).join(',')} — in order, none lost; deepest mailbox ${blocked?.max_mailbox_depth ?? '?'}`);
  const rise = out('rise') as { pid?: number; got?: Array<{ seq: number; parcel: number }> };
  const deliver = out('deliver') as { crashed_pid?: number };
  io.out(`restart     phoenix pid ${deliver.crashed_pid ?? '?'} was SIGKILLed; courier's parcels were held for slot phoenix#1`);
  io.out(`              and delivered to the new process pid ${rise.pid ?? '?'}: ${(rise.got ?? []).map((g) => `#${g.parcel} (seq ${g.seq})`).join(', ')}`);
  if (bus) {
    io.out('');
    io.out(`bus         sent ${bus.messages_sent}, delivered ${bus.messages_delivered}, dropped ${bus.messages_dropped}, rejected ${bus.messages_rejected}, held for a restarting slot ${bus.messages_held}`);
    io.out(`            delivery latency p50 ${bus.latency_ms.p50} ms, p95 ${bus.latency_ms.p95} ms, max ${bus.latency_ms.max} ms`);
    io.out(`            dead letters: ${bus.dead_letter_count} (${[...new Set(bus.dead_letters.map((d) => d.reason))].join('; ') || 'none'})`);
  }
  io.out(`run ${report.run_id}: ${report.status} — report ${join(report.run_dir, 'report.json')}`);
  return code;
}
