/**
 * TypeScript handler preparation: cold (a fresh run directory: esbuild service start + transpile + write)
 * against cached (same run directory, unchanged sources: read the record, hash the inputs).
 * Run: npm run bench:transpile. Uses the test agent of test/transpile (handler + one imported .ts file).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareHandler } from '../src/transpile/prepare.js';

const RUNS = 7;
const dir = mkdtempSync(join(tmpdir(), 'agentos-tsbench-'));
try {
  const agent = join(dir, 'agent');
  mkdirSync(join(agent, 'lib'), { recursive: true });
  writeFileSync(join(agent, 'lib', 'shapes.ts'), "export enum Kind { Square = 'square' }\nexport interface Shape { kind: Kind; size: number }\nexport const area = (s: Shape): number => s.size * s.size;\n");
  writeFileSync(join(agent, 'handler.ts'), "import { area, Kind } from './lib/shapes.js';\nexport default async (input: { size: number }) => ({ area: area({ kind: Kind.Square, size: input.size }) });\n");
  const spec = { name: 'bench', handlerPath: join(agent, 'handler.ts') };
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cold: number[] = [];
  const cached: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const runDir = join(dir, `run-${i}`);
    let t0 = performance.now();
    await prepareHandler(spec, runDir);
    cold.push(performance.now() - t0);
    t0 = performance.now();
    await prepareHandler(spec, runDir);
    cached.push(performance.now() - t0);
  }
  const fmt = (xs: number[]): string => `median ${median(xs).toFixed(2)} ms (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)})`;
  console.log(`prepareHandler, 2 TypeScript files, ${RUNS} runs`);
  console.log(`  cold   (new run dir): ${fmt(cold)}`);
  console.log(`  cached (same run dir): ${fmt(cached)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
