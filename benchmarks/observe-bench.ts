/**
 * What watching costs the kernel: nanoseconds per emitted event with no subscriber, with the run view
 * (dashboard), the trace recorder and the Prometheus exporter subscribed, and the cost of one hub tick
 * (delta for a client) and one snapshot. In-process, synthetic events shaped like a real run's.
 * Run: npm run bench:observe
 */
import { EventLog, type KernelEvent } from '../src/kernel-api/events.js';
import { RunView } from '../src/dashboard/run-view.js';
import { TraceRecorder } from '../src/observe/trace.js';
import { RunMetricsExporter } from '../src/observe/prometheus.js';

const N = Number(process.env.N ?? 200_000);

function* workload(n: number): Generator<KernelEvent> {
  yield { type: 'run.started', run_id: 'bench', plan: 'p', tasks: n, agents: ['a'], run_dir: '/tmp' };
  for (let i = 0; i < n / 4; i++) {
    const task = `t${i}`;
    yield { type: 'task.added', task, agent: 'a', deps: [], dynamic: false };
    yield { type: 'task.state', task, state: 'running', agent: 'a', attempt: 1, pid: 1000 + (i % 8), instance: i % 8 };
    yield { type: 'task.log', task, agent: 'a', level: 'info', msg: 'working' };
    yield { type: 'task.state', task, state: 'succeeded', agent: 'a', attempt: 1, pid: 1000 + (i % 8) };
  }
}

const EVENTS = [...workload(N)];

/** Best of 5 (the machine is shared: the minimum is the least disturbed run). */
function time(label: string, setup: (events: EventLog) => void): number {
  let best = Infinity;
  for (let rep = 0; rep < 5; rep++) {
    const events = new EventLog();
    setup(events);
    events.on(() => {}); // so emit() is not skipped when nothing else listens
    const t0 = process.hrtime.bigint();
    for (const e of EVENTS) events.emit(e);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / EVENTS.length);
  }
  console.log(`${label.padEnd(32)} ${best.toFixed(0).padStart(6)} ns/event  (best of 5 x ${EVENTS.length} events)`);
  return best;
}

const setups: Array<[string, (ev: EventLog) => void]> = [
  ['emit, one no-op listener', () => {}],
  ['+ RunView (dashboard)', (ev) => {
    const v = new RunView();
    ev.on((e) => v.apply(e));
  }],
  ['+ TraceRecorder', (ev) => void new TraceRecorder(ev)],
  ['+ Prometheus exporter', (ev) => void new RunMetricsExporter({ events: ev, runId: 'b', processes: () => [], taskStates: () => [], tokensPerCall: () => 0 })],
  ['all three', (ev) => {
    const v = new RunView();
    ev.on((e) => v.apply(e));
    new TraceRecorder(ev);
    new RunMetricsExporter({ events: ev, runId: 'b', processes: () => [], taskStates: () => [], tokensPerCall: () => 0 });
  }],
];
time('warm-up', () => {});
for (const [label, setup] of setups) time(label, setup);

// A hub tick's work for one client 150 ms behind (~1000 events), and a full snapshot.
const events = new EventLog();
const view = new RunView();
events.on((e) => view.apply(e));
let k = 0;
for (const e of workload(40_000)) {
  events.emit(e);
  k++;
}
const behind = view.seq - 1000;
let t0 = process.hrtime.bigint();
let bytes = 0;
for (let i = 0; i < 20; i++) bytes = JSON.stringify(view.delta(behind, 5000)).length;
console.log(`delta of 1000 events + ${view.tasks.size} tasks scanned: ${(Number(process.hrtime.bigint() - t0) / 20 / 1e6).toFixed(2)} ms, ${(bytes / 1024).toFixed(0)} KiB`);
t0 = process.hrtime.bigint();
for (let i = 0; i < 20; i++) bytes = JSON.stringify(view.snapshot()).length;
console.log(`snapshot (${view.tasks.size} tasks, 2000 events): ${(Number(process.hrtime.bigint() - t0) / 20 / 1e6).toFixed(2)} ms, ${(bytes / 1024).toFixed(0)} KiB  [${k} events folded]`);
