/**
 * Transpile a TypeScript handler and every TypeScript file it imports (transitively) with esbuild, one
 * file at a time: types are stripped, nothing is type-checked, every module stays its own ES module.
 * `import.meta.url`/`filename`/`dirname` keep naming the .ts source, so files read "next to the handler"
 * are found where they were. Problems of all files (syntax, missing imports) are collected, not thrown
 * one by one.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Problem } from '../config/problems.js';
import { classify, findImports, positionOf } from './imports.js';

/** One transpiled file; `code` still holds the original specifiers (see `imports`). */
export interface TranspiledFile {
  /** Absolute path of the .ts/.mts source. */
  path: string;
  /** sha256 (hex) of the source text: the cache key part of this file. */
  sha256: string;
  code: string;
  /** Source map (JSON text) pointing at `path`. */
  map: string;
  /** Imports to rewrite: TypeScript files (to their output), other files (to absolute URLs). */
  imports: Array<{ start: number; end: number; target: { kind: 'typescript' | 'file'; path: string } }>;
  /** Packages imported by bare name (resolved from this file's directory). */
  packages: string[];
}

export interface Graph {
  files: TranspiledFile[];
  problems: Problem[];
}

type Esbuild = typeof import('esbuild');
let esbuild: Promise<Esbuild> | undefined;
let active = 0;

/**
 * esbuild runs as one service child process; it is started on first use and stopped as soon as no
 * transpilation is in flight, so no process outlives the work (a run of only .js agents never loads it).
 */
async function withEsbuild<T>(work: (e: Esbuild) => Promise<T>): Promise<T> {
  active++;
  try {
    esbuild ??= import('esbuild');
    return await work(await esbuild);
  } finally {
    if (--active === 0) await (await esbuild!).stop();
  }
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Version of esbuild in use (part of every cache key: another transpiler, other output). */
export async function esbuildVersion(): Promise<string> {
  esbuild ??= import('esbuild');
  return (await esbuild).version;
}

interface EsbuildMessage {
  text: string;
  location?: { file: string; line: number; column: number } | null;
}

async function transpileOne(e: Esbuild, path: string, source: string): Promise<{ code: string; map: string } | Problem[]> {
  try {
    const r = await e.transform(source, {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcemap: 'external',
      sourcefile: path,
      sourcesContent: false,
      logLevel: 'silent',
      define: {
        'import.meta.url': JSON.stringify(pathToFileURL(path).href),
        'import.meta.filename': JSON.stringify(path),
        'import.meta.dirname': JSON.stringify(dirname(path)),
      },
    });
    return { code: r.code, map: r.map };
  } catch (err) {
    const errors = (err as { errors?: EsbuildMessage[] }).errors;
    if (!Array.isArray(errors)) throw err;
    return errors.map((m) => ({
      code: 'E_HANDLER_SYNTAX' as const,
      file: m.location?.file ?? path,
      line: m.location?.line,
      col: m.location ? m.location.column + 1 : undefined,
      message: `TypeScript syntax error: ${m.text}. Fix: correct the source (types are not checked at run time; check them with tsc --noEmit).`,
    }));
  }
}

/** Transpile `entry` and the TypeScript files reachable from it through relative imports. */
export async function transpileGraph(entry: string): Promise<Graph> {
  return withEsbuild(async (e) => {
    const files: TranspiledFile[] = [];
    const problems: Problem[] = [];
    const seen = new Set<string>([entry]);
    const queue = [entry];
    for (let path = queue.shift(); path !== undefined; path = queue.shift()) {
      let source: string;
      try {
        source = readFileSync(path, 'utf8');
      } catch (err) {
        problems.push({ code: 'E_MISSING_HANDLER', file: path, message: `cannot read TypeScript file: ${(err as Error).message}` });
        continue;
      }
      const out = await transpileOne(e, path, source);
      if (Array.isArray(out)) {
        problems.push(...out);
        continue;
      }
      const file: TranspiledFile = { path, sha256: sha256(source), code: out.code, map: out.map, imports: [], packages: [] };
      for (const site of findImports(out.code)) {
        const target = classify(site.specifier, path);
        const where = (): Pick<Problem, 'file' | 'line' | 'col'> => ({ file: path, ...positionOf(source, site.specifier) });
        if (target.kind === 'typescript' || target.kind === 'file') {
          file.imports.push({ start: site.start, end: site.end, target });
          if (target.kind === 'typescript' && !seen.has(target.path)) {
            seen.add(target.path);
            queue.push(target.path);
          }
        } else if (target.kind === 'package') {
          if (!file.packages.includes(target.name)) file.packages.push(target.name);
        } else if (target.kind === 'unsupported') {
          problems.push({ code: 'E_SCHEMA', ...where(), message: target.why });
        } else if (target.kind === 'missing' && !site.dynamic) {
          problems.push({ code: 'E_MISSING_HANDLER', ...where(), message: `import '${site.specifier}' not found (looked for ${target.path}). Fix: correct the path.` });
        } else if (target.kind === 'missing') {
          // import() of a missing file may be deliberate (an optional module): it fails where JavaScript would.
          file.imports.push({ start: site.start, end: site.end, target: { kind: 'file', path: target.path } });
        }
      }
      files.push(file);
    }
    return { files, problems };
  });
}
