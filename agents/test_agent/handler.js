// Runs the test command: `baseline` (with coverage, for localisation), `candidate` (one mutant in its own
// copy), `verify` (the winning patch on a fresh copy) or `run` (the suite as it is, on a copy).
import { baseline, runCandidate } from '../../dist/src/repair/index.js';

export default async function test(input, ctx) {
  switch (input.mode) {
    case 'baseline': {
      const res = await baseline(input);
      ctx.log(`baseline: ${res.tests.passed} passed, ${res.tests.failed} failed (${res.ms} ms)`);
      return res;
    }
    case 'candidate':
      return runCandidate(input);
    case 'verify': {
      const winner = ctx.deps.patch?.winner;
      if (!winner) return null;
      const res = await runCandidate({ repo: input.repo, dir: input.dir, mutant: winner, testCmd: input.testCmd });
      ctx.log(`with the patch: ${res.tests.passed} passed, ${res.tests.failed} failed`);
      return res;
    }
    case 'run':
      return runCandidate({ repo: input.repo, dir: input.dir, mutant: null, testCmd: input.testCmd });
    default:
      throw new Error(`test_agent: unknown mode '${input.mode}'`);
  }
}
