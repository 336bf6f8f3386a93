/**
 * The import specifiers of one transpiled module, found on its real syntax tree (acorn), so strings and
 * comments that merely look like imports are never touched. Each is classified by what it points at:
 * another TypeScript file (transpiled too), a file used as it is (JavaScript, JSON), a package from
 * node_modules, or a Node builtin.
 */
import { existsSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'acorn';
import { simple } from 'acorn-walk';

/** Extensions transpiled as ESM TypeScript. */
export const TS_EXTENSIONS = ['.ts', '.mts'] as const;
/** TypeScript flavours a handler may not use: CommonJS TypeScript and JSX. */
export const UNSUPPORTED_TS = ['.cts', '.tsx'] as const;

export function isTypeScript(path: string): boolean {
  return TS_EXTENSIONS.some((e) => path.endsWith(e));
}

/** One specifier in the output text: `start`/`end` are offsets of its string literal, quotes included. */
export interface ImportSite {
  specifier: string;
  start: number;
  end: number;
  /** `import(...)` rather than a static import/export: may legitimately point at nothing. */
  dynamic: boolean;
}

export type ImportTarget =
  | { kind: 'builtin' }
  | { kind: 'typescript'; path: string }
  | { kind: 'file'; path: string }
  | { kind: 'package'; name: string }
  | { kind: 'missing'; path: string }
  | { kind: 'unsupported'; why: string };

/** Every import/export-from/import() with a literal specifier in `code` (ESM, any modern syntax). */
export function findImports(code: string): ImportSite[] {
  const ast = parse(code, { ecmaVersion: 'latest', sourceType: 'module' });
  const sites: ImportSite[] = [];
  const add = (source: unknown, dynamic: boolean): void => {
    const lit = source as { type?: string; value?: unknown; start: number; end: number } | null | undefined;
    if (lit?.type === 'Literal' && typeof lit.value === 'string') sites.push({ specifier: lit.value, start: lit.start, end: lit.end, dynamic });
  };
  simple(ast, {
    ImportDeclaration: (n) => add(n.source, false),
    ExportNamedDeclaration: (n) => add(n.source, false),
    ExportAllDeclaration: (n) => add(n.source, false),
    ImportExpression: (n) => add(n.source, true),
  });
  return sites.sort((a, b) => a.start - b.start);
}

function isFile(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isFile() === true;
}

/**
 * What `specifier`, written in the TypeScript file `from`, refers to. TypeScript's own conventions are
 * honoured: `./x.js` means `./x.ts` when only the latter exists (NodeNext style), `./x` means `./x.ts`
 * (bundler style).
 */
export function classify(specifier: string, from: string): ImportTarget {
  if (specifier.startsWith('node:') || isBuiltin(specifier)) return { kind: 'builtin' };
  if (specifier.startsWith('#')) {
    return { kind: 'unsupported', why: `subpath import '${specifier}' (package.json "imports") is not supported in a TypeScript handler. Fix: use a relative import.` };
  }
  const isPath = specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..' || isAbsolute(specifier) || specifier.startsWith('file:');
  if (!isPath) return { kind: 'package', name: packageName(specifier) };
  const path = specifier.startsWith('file:') ? fileURLToPath(specifier) : resolve(dirname(from), specifier);
  const unsupported = UNSUPPORTED_TS.find((e) => path.endsWith(e));
  if (unsupported) return { kind: 'unsupported', why: `'${specifier}' is a ${unsupported} file; handlers are ESM TypeScript (.ts, .mts). Fix: rename it to .ts or .mts.` };
  if (isTypeScript(path)) return isFile(path) ? { kind: 'typescript', path } : { kind: 'missing', path };
  if (isFile(path)) return { kind: 'file', path };
  for (const [js, ts] of [['.js', '.ts'], ['.mjs', '.mts']] as const) {
    if (path.endsWith(js) && isFile(path.slice(0, -js.length) + ts)) return { kind: 'typescript', path: path.slice(0, -js.length) + ts };
  }
  for (const ts of TS_EXTENSIONS) if (isFile(path + ts)) return { kind: 'typescript', path: path + ts };
  return existsSync(path) ? { kind: 'file', path } : { kind: 'missing', path };
}

/** `lodash/fp` -> `lodash`, `@scope/pkg/sub` -> `@scope/pkg`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** 1-based line and column of the first quoted occurrence of `specifier` in `source`, if any. */
export function positionOf(source: string, specifier: string): { line: number; col: number } | undefined {
  let at = -1;
  for (const q of ["'", '"', '`']) {
    const i = source.indexOf(`${q}${specifier}${q}`);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  if (at < 0) return undefined;
  const before = source.slice(0, at);
  const line = before.split('\n').length;
  return { line, col: at - before.lastIndexOf('\n') };
}
