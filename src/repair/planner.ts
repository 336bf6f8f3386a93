/**
 * The planner: a goal in words becomes a task DAG. Three goal types: repair (test, localise, search,
 * verify, report), scan (fan-out over top-level entries, then merge) and report (scan and test suite in
 * parallel, then one report). The tasks depend on the planner's own task, so nothing starts before the
 * plan is complete (and printed).
 */
export type GoalKind = 'repair' | 'scan' | 'report';

export interface PlannedTask {
  id: string;
  agent: string;
  deps: string[];
  input: Record<string, unknown>;
}

export interface PlanContext {
  /** The repository (a working copy for repair). */
  repo: string;
  work: string;
  out: string;
  testCmd: string;
  maxCandidates: number | 'auto';
  /** When the run started (epoch ms): the search keeps the whole run under two minutes from it. */
  startedAt?: number | undefined;
  candidateTimeoutMs?: number | undefined;
  candidateMemoryMb?: number | undefined;
  /** Top-level entry shards for a scan fan-out. */
  shards: string[][];
}

export function classifyGoal(goal: string): GoalKind | undefined {
  const g = goal.toLowerCase();
  if (/\b(repair|fix|debug|patch|heal)\b/.test(g)) return 'repair';
  if (/\b(report|summar(y|ise|ize)|status|health)\b/.test(g)) return 'report';
  if (/\b(scan|analy[sz]e|inventory|survey|explore|index|list)\b/.test(g)) return 'scan';
  return undefined;
}

export function planGoal(kind: GoalKind, goal: string, c: PlanContext, self = 'plan'): PlannedTask[] {
  switch (kind) {
    case 'repair':
      return [
        { id: 'baseline', agent: 'test_agent', deps: [self], input: { mode: 'baseline', repo: c.repo, testCmd: c.testCmd, covRoot: `${c.work}/cov`, testTimeoutMs: c.candidateTimeoutMs } },
        { id: 'analyze', agent: 'analyzer', deps: ['baseline'], input: { mode: 'localise', repo: c.repo, out: c.out } },
        { id: 'patch', agent: 'patch_agent', deps: ['analyze', 'baseline'], input: { repo: c.repo, work: c.work, testCmd: c.testCmd, startedAt: c.startedAt, maxCandidates: c.maxCandidates, candidateTimeoutMs: c.candidateTimeoutMs, candidateMemoryMb: c.candidateMemoryMb } },
        { id: 'test', agent: 'test_agent', deps: ['patch', 'baseline'], input: { mode: 'verify', repo: c.repo, dir: `${c.work}/verify`, testCmd: c.testCmd } },
        { id: 'report', agent: 'report_agent', deps: ['baseline', 'analyze', 'patch', 'test'], input: { mode: 'repair', repo: c.repo, out: c.out, goal } },
      ];
    case 'scan': {
      const shards = c.shards.length > 0 ? c.shards : [[]];
      const scans = shards.map((only, i) => ({ id: `scan-${i + 1}`, agent: 'analyzer', deps: [self], input: { mode: 'scan', repo: c.repo, only } }));
      return [...scans, { id: 'report', agent: 'report_agent', deps: scans.map((s) => s.id), input: { mode: 'scan', out: c.out, goal } }];
    }
    case 'report':
      return [
        { id: 'scan', agent: 'analyzer', deps: [self], input: { mode: 'scan', repo: c.repo, only: null } },
        { id: 'tests', agent: 'test_agent', deps: [self], input: { mode: 'run', repo: c.repo, dir: `${c.work}/tests`, testCmd: c.testCmd } },
        { id: 'report', agent: 'report_agent', deps: ['scan', 'tests'], input: { mode: 'status', out: c.out, goal } },
      ];
  }
}
