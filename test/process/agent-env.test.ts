/**
 * Agents get an allow-listed environment (docs/agents.md): a secret or NODE_OPTIONS in the kernel's
 * environment reaches neither the agent nor a command it starts; names from agent.yaml `env:` do.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, cleanupTempDirs, expectAllGone, runFixturePlan, runPids } from '../helpers.js';

afterAll(cleanupTempDirs);

describe('the agent environment is an allow-list', () => {
  it('no kernel secret or NODE_OPTIONS reaches an agent or its child; env: names and the protocol variables do', async () => {
    // The CLI (the kernel) inherits this test worker's environment.
    process.env.AGENTOS_LLM_API_KEY = 'sk-test-not-a-real-key';
    process.env.AGENTOS_TEST_SHARED = 'shared-value';
    process.env.AGENTOS_TEST_PRIVATE = 'private-value';
    process.env.NODE_OPTIONS = '--no-warnings';
    try {
      const { res, report } = await runFixturePlan([{ id: 'e', agent: 'env_agent' }]);
      expect(res.exitCode, res.all).toBe(0);
      const out = report!.tasks[0]!.output as { names: string[]; childNames: string[]; key: unknown; childKey: unknown; shared: unknown; cwd: string };
      expect(out.key).toBeNull();
      expect(out.childKey).toBeNull();
      expect(out.shared).toBe('shared-value');
      for (const names of [out.names, out.childNames]) {
        expect(names).not.toContain('AGENTOS_LLM_API_KEY');
        expect(names).not.toContain('AGENTOS_TEST_PRIVATE');
        expect(names).not.toContain('NODE_OPTIONS');
        expect(names).toContain('PATH');
      }
      // AGENTOS_RUN_TAG (containment's tag, docs/containment.md) is there unless AGENTOS_CONTAINMENT=off.
      const agentos = out.names.filter((n) => n.startsWith('AGENTOS_') && n !== 'AGENTOS_RUN_TAG');
      expect(agentos).toEqual(['AGENTOS_AGENT', 'AGENTOS_CHANNEL_FD', 'AGENTOS_HANDLER', 'AGENTOS_INSTANCE', 'AGENTOS_MAX_FRAME_BYTES', 'AGENTOS_PROTOCOL', 'AGENTOS_RUN', 'AGENTOS_TEST_SHARED']);
      // the working directory is the kernel's
      expect(out.cwd).toBe(ROOT);
      await expectAllGone(runPids(report!));
    } finally {
      delete process.env.AGENTOS_LLM_API_KEY;
      delete process.env.AGENTOS_TEST_SHARED;
      delete process.env.AGENTOS_TEST_PRIVATE;
      delete process.env.NODE_OPTIONS;
    }
  });
});
