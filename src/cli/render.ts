/** The human view of a run on the terminal: one line per meaningful event, then summary tables. */
import type { EventLog, TimedEvent } from '../kernel-api/events.js';
import type { RunReport } from '../observe/report.js';

type Write = (line: string) => void;

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const secs = (t: number): string => `+${(t / 1000).toFixed(2)}s`.padStart(8);

/**
 * Bytes the terminal streams may hold unwritten before the kernel pauses the agents: a pipe to a slow
 * reader (`agentos run | less`) buffers what it cannot take in the kernel's memory otherwise.
 */
export const PROGRESS_BACKLOG_BYTES = 1 << 20;

/** Print a line per meaningful event on `write`; returns the detach function. */
export function attachProgress(events: EventLog, write: Write): () => void {
  let behind = false;
  const caughtUp = (): void => {
    if (process.stdout.writableLength + process.stderr.writableLength > PROGRESS_BACKLOG_BYTES) return;
    behind = false;
    process.stdout.off('drain', caughtUp);
    process.stderr.off('drain', caughtUp);
    events.sinkBehind('progress', false);
  };
  const off = events.on((e) => {
    const line = describe(e);
    if (!line) return;
    write(`${secs(e.t)}  ${line}`);
    // The lines go to stdout or stderr (--json): whichever holds a backlog, the agents wait for it.
    if (!behind && process.stdout.writableLength + process.stderr.writableLength > PROGRESS_BACKLOG_BYTES) {
      behind = true;
      events.sinkBehind('progress', true);
      process.stdout.on('drain', caughtUp);
      process.stderr.on('drain', caughtUp);
    }
  });
  return () => {
    off();
    if (behind) {
      behind = false;
      process.stdout.off('drain', caughtUp);
      process.stderr.off('drain', caughtUp);
      events.sinkBehind('progress', false);
    }
  };
}

function describe(e: TimedEvent): string | undefined {
  switch (e.type) {
    case 'run.started':
      return `run ${e.run_id}: plan '${e.plan}', ${e.tasks} task(s), agents ${e.agents.join(', ')}`;
    case 'process.ready':
      return `${pad('process', 9)}${e.agent}#${e.instance} ready (pid ${e.pid}, ${Math.round(e.ready_ms)} ms)`;
    case 'process.init_failed':
      return `${pad('process', 9)}${e.agent}#${e.instance} failed to start: ${e.message}`;
    case 'process.exited':
      return e.state === 'crashed' ? `${pad('process', 9)}${e.agent}#${e.instance} pid ${e.pid} ended (${e.reason}, ${e.signal ?? `code ${e.code}`})` : undefined;
    case 'process.restart':
      return `${pad('restart', 9)}${e.agent}#${e.instance} ${e.replaced === false ? 'not replaced' : 'replaced by a fresh process'} (restart ${e.restarts})`;
    case 'agent.circuit_open':
      return `${pad('circuit', 9)}${e.agent}: ${e.cause === 'failed_starts' ? 'failed starts in a row' : `${e.restarts} restarts within ${e.window_ms} ms`}, no more work for it${e.last_error ? ` (last: ${e.last_error})` : ''}`;
    case 'task.state':
      if (e.state === 'running') return `${pad('task', 9)}${pad(e.task, 14)} running on ${e.agent}#${e.instance ?? '?'} (attempt ${e.attempt ?? '?'}, pid ${e.pid ?? '?'})`;
      if (e.state === 'succeeded') return `${pad('task', 9)}${pad(e.task, 14)} succeeded${e.attempt && e.attempt > 1 ? ` on attempt ${e.attempt}` : ''}`;
      if (e.state === 'failed') return `${pad('task', 9)}${pad(e.task, 14)} FAILED: ${e.reason ?? ''}`;
      if (e.state === 'skipped') return `${pad('task', 9)}${pad(e.task, 14)} skipped (${e.reason ?? ''})`;
      return undefined;
    case 'fault.injected':
      return `${pad('fault', 9)}${pad(e.task, 14)} injecting '${e.fault}' into ${e.agent} (attempt ${e.attempt})`;
    case 'task.failure':
      return `${pad('failure', 9)}${pad(e.task, 14)} attempt ${e.attempt} on ${e.agent}: ${e.kind}: ${e.message}`;
    case 'task.retry':
      return `${pad('retry', 9)}${pad(e.task, 14)} attempt ${e.attempt} on ${e.agent} after ${e.delay_ms} ms backoff`;
    case 'task.fallback':
      return `${pad('fallback', 9)}${pad(e.task, 14)} ${e.from} exhausted, handing over to ${e.to}`;
    case 'quota.exceeded':
      return `${pad('quota', 9)}${e.agent}#${e.instance} pid ${e.pid} at ${e.rss_mb} MB > ${e.quota_mb} MB quota: killed`;
    case 'ipc.rejected':
      return `${pad('ipc', 9)}rejected a message from ${e.agent}#${e.instance}: ${e.reason}`;
    case 'task.log':
      return `${pad('log', 9)}${pad(e.task, 14)} ${e.agent}: ${e.msg}`;
    case 'run.interrupted':
      return `${pad('run', 9)}interrupted (${e.signal}): stopping every agent, writing the report`;
    default:
      return undefined;
  }
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => pad(cell, widths[c]!)).join('  ').trimEnd());
}

export function summary(report: RunReport): string[] {
  const out: string[] = [''];
  // Tasks that never ran (cancelled or skipped before an attempt) are counted in one line, not listed.
  const never = report.tasks.filter((t) => t.state === 'skipped' && t.attempts === 0);
  const shown = never.length > 3 ? report.tasks.filter((t) => !never.includes(t)) : report.tasks;
  out.push(...table([
    ['TASK', 'AGENT', 'STATE', 'ATTEMPTS', 'SERVED BY', 'MS', 'FAILURES'],
    ...shown.map((t) => [t.id, t.agent, t.state, String(t.attempts), t.served_by ?? '-', t.duration_ms === null ? '-' : String(t.duration_ms), t.failures.map((f) => `#${f.attempt} ${f.kind}`).join(', ') || '-']),
  ]));
  if (shown.length < report.tasks.length) out.push(`(and ${never.length} tasks skipped before they started: ${never.slice(0, 3).map((t) => t.id).join(', ')}${never.length > 3 ? ', ...' : ''})`);
  out.push('');
  out.push(...table([
    ['AGENT', 'PIDS', 'RESTARTS', 'PEAK RSS MB', 'ATTEMPTS', 'TOKENS'],
    ...report.agents.map((a) => [a.name + (a.circuit_open ? ' (circuit open)' : ''), a.pids.join(','), String(a.restarts), a.peak_rss_mb.toFixed(1), String(a.attempts_served), String(a.tokens)]),
  ]));
  for (const a of report.agents) if (a.standby) out.push(`${a.name}: ${a.standby.processes} standby process(es) kept warm, ${a.standby.rss_mb.toFixed(1)} MB RSS at their peak`);
  const m = report.metrics;
  out.push('');
  out.push(`${report.status.toUpperCase()} in ${report.duration_ms} ms: ${m.tasks.succeeded} succeeded, ${m.tasks.failed} failed, ${m.tasks.skipped} skipped; ${m.attempts} attempts, ${m.retries} retries, ${m.fallbacks} fallbacks, ${m.restarts} restarts`);
  const b = report.bus;
  if (b) out.push(`bus: ${b.messages_sent} sent, ${b.messages_delivered} delivered, ${b.messages_dropped} dropped, ${b.messages_rejected} rejected, ${b.dead_letter_count} dead letters; latency p50 ${b.latency_ms.p50} ms`);
  const c = report.context;
  if (c) out.push(`context: ${c.tokens_before} -> ${c.tokens_after} tokens (${c.tokenizer}), ${c.compressions} compressions, ${c.tokens_saved} tokens / ${c.chars_saved} chars saved`);
  const k = report.kv?.before_shutdown;
  if (k) out.push(`kv: ${k.logical_pages} logical / ${k.physical_pages} physical pages, ${k.bytes_saved} bytes saved, ${k.cow_copies} COW copies, prefix hit rate ${k.prefix_hit_rate}`);
  out.push(`report: ${report.run_dir}/report.json   events: ${report.run_dir}/events.jsonl`);
  return out;
}
