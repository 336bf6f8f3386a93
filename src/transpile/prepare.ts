/**
 * TypeScript handlers without a build step. `prepareHandler` turns an agent's `.ts`/`.mts` handler into
 * ES modules in the run directory, once per run and cached by content hash; a `.js`/`.mjs` handler (or
 * any other) is returned as it is, at no cost.
 *
 * Layout, in `<runDir>/handlers/`:
 *   <agent>.json                    the cache record: entry, output dir, every input file's sha256
 *   <agent>-<hash>/entry.mjs        what the worker imports: turns source maps on, loads the handler
 *   <agent>-<hash>/src/<tree>.ts.mjs (+ .map)   each TypeScript file, mirrored below their common dir
 *   <agent>-<hash>/src/…/node_modules/<pkg>      links to the packages the sources import by name
 *
 * Why this shape: the output lives in the run directory (readable under the sandbox, kept with the run's
 * record, never written into the agent's sources), yet a bare `import 'pkg'` must still resolve as it
 * would from the .ts file. Node finds packages by walking up from the importing file, so each imported
 * package is linked at the mirrored place where Node would have found it (above the sources' common
 * directory: at the top of the tree). Node then applies its own rules (exports, conditions) to the real
 * package. Relative imports of .js/.json files become absolute file URLs (one module identity, their
 * own import.meta.url).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { InputProblems } from '../config/problems.js';
import { esbuildVersion, sha256, transpileGraph, type TranspiledFile } from './graph.js';
import { isTypeScript } from './imports.js';

/** The part of an agent spec this needs. */
export interface HandlerRef {
  /** Agent name (names the output directory). */
  name: string;
  /** Absolute path of the handler module. */
  handlerPath: string;
}

/** Bumped when the output layout changes: old cache records then miss. */
const FORMAT = 1;

const recordSchema = z.object({
  format: z.literal(FORMAT),
  esbuild: z.string(),
  handler: z.string(),
  entry: z.string(),
  inputs: z.array(z.object({ path: z.string(), sha256: z.string() })),
});
type CacheRecord = z.infer<typeof recordSchema>;

/**
 * Prepare one agent's handler for this run. Returns the absolute path the worker should import: the
 * handler itself for JavaScript, else `<runDir>/handlers/<agent>-<hash>/entry.mjs`. A second call with
 * unchanged sources reads the cache record and hashes the inputs, nothing more.
 * Throws InputProblems (E_HANDLER_SYNTAX with file:line:col, E_MISSING_HANDLER for an import that is
 * not there, E_SCHEMA for an unsupported import) listing every problem of the handler's files.
 */
export async function prepareHandler(spec: HandlerRef, runDir: string): Promise<string> {
  if (!isTypeScript(spec.handlerPath)) return spec.handlerPath;
  const handlersDir = join(runDir, 'handlers');
  const recordFile = join(handlersDir, `${spec.name}.json`);
  const cached = readRecord(recordFile, spec.handlerPath);
  if (cached) return cached;

  const graph = await transpileGraph(spec.handlerPath);
  if (graph.problems.length > 0) throw new InputProblems(graph.problems);
  const version = await esbuildVersion();
  const inputs = graph.files.map((f) => ({ path: f.path, sha256: f.sha256 })).sort((a, b) => a.path.localeCompare(b.path));
  const hash = sha256(JSON.stringify({ FORMAT, version, handler: spec.handlerPath, inputs })).slice(0, 16);
  const outDir = join(handlersDir, `${spec.name}-${hash}`);
  const entry = join(outDir, 'entry.mjs');
  if (!existsSync(entry)) writeOutput(graph.files, spec.handlerPath, outDir);
  const record: CacheRecord = { format: FORMAT, esbuild: version, handler: spec.handlerPath, entry, inputs };
  atomicWrite(recordFile, `${JSON.stringify(record, null, 2)}\n`);
  return entry;
}

/** The entry of a valid cache record (same handler, every input unchanged, output present), else undefined. */
function readRecord(file: string, handler: string): string | undefined {
  let record: CacheRecord;
  try {
    const parsed = recordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) return undefined;
    record = parsed.data;
  } catch {
    return undefined; // no record yet (or a torn one): transpile
  }
  if (record.handler !== handler || !existsSync(record.entry)) return undefined;
  for (const input of record.inputs) {
    try {
      if (sha256(readFileSync(input.path)) !== input.sha256) return undefined;
    } catch {
      return undefined;
    }
  }
  return record.entry;
}

/** Deepest directory holding every path. */
function commonDir(paths: readonly string[]): string {
  let dir = dirname(paths[0]!);
  while (!paths.every((p) => p.startsWith(dir.endsWith(sep) ? dir : dir + sep))) dir = dirname(dir);
  return dir;
}

function relativeSpecifier(fromFile: string, toFile: string): string {
  const rel = relative(dirname(fromFile), toFile).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** Write the tree into a fresh directory, then rename it into place (a concurrent writer loses harmlessly). */
function writeOutput(files: readonly TranspiledFile[], handler: string, outDir: string): void {
  const root = commonDir(files.map((f) => f.path));
  const tmp = `${outDir}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const outOf = (src: string, base = tmp): string => join(base, 'src', `${relative(root, src)}.mjs`);
  try {
    const links = new Map<string, string>();
    for (const f of files) {
      const out = outOf(f.path);
      let code = f.code;
      for (const imp of [...f.imports].sort((a, b) => b.start - a.start)) {
        const to = imp.target.kind === 'typescript' ? relativeSpecifier(out, outOf(imp.target.path)) : pathToFileURL(imp.target.path).href;
        code = code.slice(0, imp.start) + JSON.stringify(to) + code.slice(imp.end);
      }
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, `${code}//# sourceMappingURL=${basename(out)}.map\n`);
      writeFileSync(`${out}.map`, f.map);
      for (const name of f.packages) {
        const found = findPackage(name, dirname(f.path));
        if (!found) continue; // fails at load with Node's own message, as it would for a .js handler
        // Mirror where Node would have found it: inside the tree at that directory, else at its top.
        const at = found.dir === root || found.dir.startsWith(root + sep) ? found.dir : root;
        links.set(join(tmp, 'src', relative(root, at), 'node_modules', name), found.target);
      }
    }
    for (const [link, target] of links) {
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(target, link, 'dir');
    }
    writeFileSync(join(tmp, 'entry.mjs'), entryModule(handler, relativeSpecifier(join(tmp, 'entry.mjs'), outOf(handler))));
    mkdirSync(dirname(outDir), { recursive: true });
    try {
      renameSync(tmp, outDir);
    } catch (err) {
      if (!existsSync(join(outDir, 'entry.mjs'))) throw err; // else: the same content was written meanwhile
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The package directory Node would find for `name` from `fromDir` (node_modules upwards, then self-reference). */
function findPackage(name: string, fromDir: string): { dir: string; target: string } | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(candidate)) return { dir, target: candidate };
    if (dirname(dir) === dir) break;
  }
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const data = JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown };
        return data.name === name ? { dir, target: dir } : undefined;
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The module the worker imports. Source maps are turned on before the handler is loaded (a dynamic
 * import after the switch), so a thrown error's stack names the .ts file and line; Node applies them
 * only to modules loaded after the switch, hence the two steps.
 */
function entryModule(handler: string, specifier: string): string {
  const noDefault = `${handler} has no default export function (export default async (input, ctx) => output)`;
  return [
    `// Generated by AgentOS from ${handler}; do not edit (rewritten when the sources change).`,
    'process.setSourceMapsEnabled(true);',
    `const mod = await import(${JSON.stringify(specifier)});`,
    `if (typeof mod.default !== 'function') throw new TypeError(${JSON.stringify(noDefault)});`,
    'export default mod.default;',
    '',
  ].join('\n');
}

function atomicWrite(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

