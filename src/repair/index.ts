/** What the repair agents (agents/*) import: the compiled form is dist/src/repair/index.js. */
export { analyse, type Analysis } from './analyse.js';
export { unifiedDiff } from './diff.js';
export { applyMutant, mutantsOf } from './mutate.js';
export { classifyGoal, planGoal, type GoalKind } from './planner.js';
export { repairMarkdown, scanText } from './report-md.js';
export { copyRepo } from './repo.js';
export { mergeScans, scanRepo, shardTopLevel } from './scan.js';
export { searchRepair } from './search.js';
export { baseline, runCandidate, spectrumRun } from './test-run.js';
export { probeRun } from './probe-run.js';
