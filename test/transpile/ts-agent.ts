/** A TypeScript agent written into a temp directory: types, an enum, an interface, .ts/.js/JSON/package imports. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The line of `throw new Error('boom from ts')` in handler.ts (the stack must name it). */
export const THROW_LINE = 14;

export const HANDLER = `import { readFileSync } from 'node:fs';
import { area, Kind, type Shape } from './lib/shapes.js';
import { helperUrl } from './helper.js';
import { flavour } from 'tiny-pkg';

interface Input { size: number; boom?: boolean }
type Out = { area: number; greeting: string; helperUrl: string; flavour: string; url: string; task: string };
const data = JSON.parse(readFileSync(new URL('./data.json', import.meta.url), 'utf8')) as { greeting: string };
await Promise.resolve(); // top-level await stays legal

export default async function handle(input: Input, ctx: { task: { id: string } }): Promise<Out> {
  const s: Shape = { kind: Kind.Square, size: input.size };
  if (input.boom) {
    throw new Error('boom from ts');
  }
  return { area: area(s), greeting: data.greeting, helperUrl, flavour, url: import.meta.url, task: ctx.task.id };
}
`;

export const SHAPES = `export enum Kind { Square = 'square', Circle = 'circle' }
export interface Shape { kind: Kind; size: number }
export function area(s: Shape): number {
  return s.kind === Kind.Square ? s.size * s.size : Math.round(Math.PI * s.size * s.size);
}
`;

/** Write agent `name` under `agentsDir`; returns the agent's directory. */
export function writeTsAgent(agentsDir: string, name = 'ts_agent', handler = HANDLER): string {
  const dir = join(agentsDir, name);
  mkdirSync(join(dir, 'lib'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', 'tiny-pkg'), { recursive: true });
  writeFileSync(join(dir, 'agent.yaml'), `name: ${name}\nhandler: ./handler.ts\nretry:\n  max_attempts: 1\n`);
  writeFileSync(join(dir, 'handler.ts'), handler);
  writeFileSync(join(dir, 'lib', 'shapes.ts'), SHAPES);
  writeFileSync(join(dir, 'helper.js'), 'export const helperUrl = import.meta.url;\n');
  writeFileSync(join(dir, 'data.json'), '{"greeting":"hi"}\n');
  // A dual package: Node must pick the ESM side for an import, as it would from the .ts file.
  writeFileSync(join(dir, 'node_modules', 'tiny-pkg', 'package.json'), '{"name":"tiny-pkg","exports":{"import":"./esm.mjs","require":"./cjs.cjs"}}\n');
  writeFileSync(join(dir, 'node_modules', 'tiny-pkg', 'esm.mjs'), 'export const flavour = "esm";\n');
  writeFileSync(join(dir, 'node_modules', 'tiny-pkg', 'cjs.cjs'), 'exports.flavour = "cjs";\n');
  return dir;
}
