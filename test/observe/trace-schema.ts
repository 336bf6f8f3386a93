/**
 * Chrome Trace Event format (the JSON Object Format of the Trace Event Format document, as Perfetto and
 * chrome://tracing load it), for the event phases agentos writes: X complete, i instant, C counter,
 * M metadata. Checked with zod, then the structural rules a viewer relies on.
 */
import { z } from 'zod';

const base = { name: z.string().min(1), ts: z.number().nonnegative(), pid: z.number().int().positive(), tid: z.number().int().positive(), cat: z.string().optional() };

export const traceEventSchema = z.discriminatedUnion('ph', [
  z.object({ ...base, ph: z.literal('X'), dur: z.number().nonnegative(), args: z.record(z.string(), z.unknown()).optional() }).strict(),
  z.object({ ...base, ph: z.literal('i'), s: z.enum(['g', 'p', 't']), args: z.record(z.string(), z.unknown()).optional() }).strict(),
  z.object({ ...base, ph: z.literal('C'), args: z.record(z.string(), z.number()) }).strict(),
  z.object({ ...base, ph: z.literal('M'), name: z.enum(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index']), args: z.record(z.string(), z.union([z.string(), z.number()])) }).strict(),
]);

export const traceFileSchema = z
  .object({ traceEvents: z.array(traceEventSchema), displayTimeUnit: z.enum(['ms', 'ns']).optional(), otherData: z.record(z.string(), z.string()).optional() })
  .strict();

export type TraceFileT = z.output<typeof traceFileSchema>;

/** Rules beyond the schema: complete events on one thread nest or follow each other (never overlap). */
export function checkNesting(trace: TraceFileT): string[] {
  const problems: string[] = [];
  const byThread = new Map<string, Array<{ ts: number; end: number; name: string }>>();
  for (const e of trace.traceEvents) {
    if (e.ph !== 'X') continue;
    const k = `${e.pid}/${e.tid}`;
    if (!byThread.has(k)) byThread.set(k, []);
    byThread.get(k)!.push({ ts: e.ts, end: e.ts + e.dur, name: e.name });
  }
  for (const [k, list] of byThread) {
    list.sort((a, b) => a.ts - b.ts || b.end - a.end);
    const stack: Array<{ end: number; name: string }> = [];
    for (const s of list) {
      while (stack.length && stack[stack.length - 1]!.end <= s.ts) stack.pop();
      const top = stack[stack.length - 1];
      if (top && s.end > top.end) problems.push(`${k}: '${s.name}' overlaps '${top.name}' without nesting`);
      stack.push(s);
    }
  }
  return problems;
}
