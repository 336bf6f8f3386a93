/** Content hashes of agents and plans: what a resume compares to refuse a changed run. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentOSError } from '../../src/errors.js';
import { changedFiles, hashAgent, hashPlan } from '../../src/journal/hash.js';
import { cleanupTempDirs, tempDir } from '../helpers.js';

afterAll(cleanupTempDirs);

function agentDir(): { file: string; handlerPath: string; dir: string } {
  const dir = tempDir('hash-');
  mkdirSync(join(dir, 'lib'));
  writeFileSync(join(dir, 'agent.yaml'), 'name: a\nhandler: handler.js\n');
  writeFileSync(join(dir, 'handler.js'), "import { f } from './lib/f.js';\nimport fs from 'node:fs';\nexport * from './lib/re.js';\nexport default async (i) => f(i) + (await import('./lib/lazy.js')).g;\n");
  writeFileSync(join(dir, 'lib/f.js'), "import { h } from './h.js';\nexport const f = (x) => h(x);\n");
  writeFileSync(join(dir, 'lib/h.js'), 'export const h = (x) => x;\n');
  writeFileSync(join(dir, 'lib/re.js'), 'export const r = 1;\n');
  writeFileSync(join(dir, 'lib/lazy.js'), 'export const g = 2;\n');
  writeFileSync(join(dir, 'lib/unused.js'), 'export const u = 3;\n');
  return { file: join(dir, 'agent.yaml'), handlerPath: join(dir, 'handler.js'), dir };
}

describe('content hashes', () => {
  it('cover agent.yaml, the handler and the modules it reaches through relative imports', () => {
    const a = agentDir();
    const h = hashAgent(a);
    expect(h.files.map((f) => f.path)).toEqual(['agent.yaml', 'handler.js', 'lib/f.js', 'lib/h.js', 'lib/lazy.js', 'lib/re.js']);
    expect(h.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashAgent(a)).toEqual(h);

    writeFileSync(join(a.dir, 'lib/unused.js'), 'export const u = 4;\n');
    expect(hashAgent(a).hash).toBe(h.hash); // not imported: not the agent's code

    writeFileSync(join(a.dir, 'lib/h.js'), 'export const h = (x) => x + 1;\n');
    const changed = hashAgent(a);
    expect(changed.hash).not.toBe(h.hash);
    expect(changedFiles(h, changed)).toEqual(['lib/h.js']);

    writeFileSync(a.file, 'name: a\nhandler: handler.js\ntimeout_ms: 5\n');
    expect(changedFiles(h, hashAgent(a))).toEqual(['agent.yaml', 'lib/h.js']);
  });

  it('a handler that does not parse is still hashed; a missing one is E_FILE_NOT_FOUND', () => {
    const a = agentDir();
    writeFileSync(a.handlerPath, 'export default (((');
    expect(hashAgent(a).files.map((f) => f.path)).toEqual(['agent.yaml', 'handler.js']);
    let err: unknown;
    try {
      hashAgent({ file: a.file, handlerPath: join(a.dir, 'nope.js') });
    } catch (e) {
      err = e;
    }
    expect((err as AgentOSError).code).toBe('E_FILE_NOT_FOUND');
  });

  it('plan hash follows the bytes', () => {
    expect(hashPlan('name: p\n')).toBe(hashPlan(Buffer.from('name: p\n')));
    expect(hashPlan('name: p\n')).not.toBe(hashPlan('name: q\n'));
  });
});
