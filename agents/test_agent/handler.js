// Runs tests: `baseline` (each test file, then each test of a failing file, as its own task under a time
// limit, with coverage), `spectrum` (one such run), `candidate` (one patch in its own copy), `probe` (the
// plausible patches' differential check, in worker threads), `verify` (the
// winning patch on a fresh copy) or `run` (the suite as it is, on a copy).
import { baseline, probeRun, runCandidate, spectrumRun } from '../../dist/src/repair/index.js';

export default async function test(input, ctx) {
  switch (input.mode) {
    case 'baseline': {
      const res = await baseline(input, ctx);
      ctx.log(`baseline: ${res.tests.passed} passed, ${res.tests.failed} failed (${res.ms} ms); ${res.note}`);
      return res;
    }
    case 'spectrum':
      return spectrumRun(input);
    case 'candidate':
      return runCandidate(input);
    case 'verify': {
      const winner = ctx.deps.patch?.winner;
      if (!winner) return null;
      const res = await runCandidate({ repo: input.repo, dir: input.dir, mutant: winner, testCmd: input.testCmd, baselineTests: ctx.deps.baseline?.tests?.total });
      ctx.log(`with the patch: ${res.tests.passed} passed, ${res.tests.failed} failed${res.weakened ? ' (fewer tests than the baseline ran: refused)' : ''}`);
      return res;
    }
    case 'probe': {
      // The differential check of the plausible patches: each copy in a worker thread (vet.ts).
      const res = await probeRun(input);
      ctx.log(`probe: ${input.inputs.length} input(s) on ${input.variants.length} variant(s) in ${res.ms} ms`);
      return res;
    }
    case 'run':
      return runCandidate({ repo: input.repo, dir: input.dir, mutant: null, testCmd: input.testCmd });
    default:
      throw new Error(`test_agent: unknown mode '${input.mode}'`);
  }
}
