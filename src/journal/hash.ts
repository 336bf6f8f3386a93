/**
 * Content hashes that let a resume tell whether the plan or an agent changed since the run started.
 * An agent's hash covers its agent.yaml, its handler module and the modules the handler reaches through
 * relative imports (static, re-exports and literal dynamic `import()`), found on the real syntax tree
 * (acorn). Bare imports (packages) are not followed: node_modules is not the agent's code. A module
 * that does not parse is hashed but not followed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { parse, type Node } from 'acorn';
import { simple } from 'acorn-walk';
import { AgentOSError } from '../errors.js';

/** Most imported modules hashed for one handler (beyond: not hashed): bounds resume-time cost for a handler that imports a tree. */
export const MAX_AGENT_FILES = 200;

export interface HashedFile {
  /** Relative to the agent's directory. */
  path: string;
  sha256: string;
}

export interface AgentHash {
  /** sha-256 over every file's path and hash, in `files` order. */
  hash: string;
  /** agent.yaml, the handler, then the modules it imports (sorted). */
  files: HashedFile[];
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hash of a plan's text (the file's bytes as read, or the YAML/JSON a goal run built). */
export function hashPlan(text: string | Buffer): string {
  return sha256Hex(text);
}

/**
 * Hash an agent: `file` is its agent.yaml, `handlerPath` its handler module (absolute paths).
 * @throws AgentOSError `E_FILE_NOT_FOUND` when agent.yaml or the handler cannot be read.
 */
export function hashAgent(spec: { file: string; handlerPath: string }): AgentHash {
  const dir = dirname(spec.file);
  const files: HashedFile[] = [hashFile(spec.file, dir)];
  const handler = resolve(spec.handlerPath);
  const seen = new Set<string>([handler]);
  const todo = [handler];
  const imported: string[] = [];
  while (todo.length > 0 && imported.length < MAX_AGENT_FILES) {
    const mod = todo.shift()!;
    const source = readOrThrow(mod);
    if (mod !== handler) imported.push(mod);
    for (const dep of relativeImports(source.toString('utf8'), mod)) {
      if (!seen.has(dep)) {
        seen.add(dep);
        todo.push(dep);
      }
    }
  }
  files.push(hashFile(handler, dir));
  for (const m of imported.sort()) files.push(hashFile(m, dir));
  return { hash: sha256Hex(files.map((f) => `${f.path}\0${f.sha256}\n`).join('')), files };
}

/** Paths of files whose hash differs, was added or disappeared between two hashes of one agent. */
export function changedFiles(before: { files: readonly HashedFile[] }, after: { files: readonly HashedFile[] }): string[] {
  const a = new Map(before.files.map((f) => [f.path, f.sha256]));
  const b = new Map(after.files.map((f) => [f.path, f.sha256]));
  const out: string[] = [];
  for (const [p, h] of a) if (b.get(p) !== h) out.push(p);
  for (const p of b.keys()) if (!a.has(p)) out.push(p);
  return out;
}

function hashFile(file: string, dir: string): HashedFile {
  return { path: relative(dir, file) || file, sha256: sha256Hex(readOrThrow(file)) };
}

function readOrThrow(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new AgentOSError('E_FILE_NOT_FOUND', `${file}: cannot read it to hash the agent: ${(err as Error).message}`, { file, cause: err });
  }
}

/** Existing files named by relative specifiers of an ES module. */
function relativeImports(code: string, from: string): string[] {
  let ast: Node;
  try {
    ast = parse(code, { ecmaVersion: 'latest', sourceType: 'module', allowHashBang: true });
  } catch {
    return [];
  }
  const specs: string[] = [];
  const take = (src: unknown): void => {
    const lit = src as { type?: string; value?: unknown } | null | undefined;
    if (lit?.type === 'Literal' && typeof lit.value === 'string') specs.push(lit.value);
  };
  simple(ast, {
    ImportDeclaration: (n) => take(n.source),
    ExportAllDeclaration: (n) => take(n.source),
    ExportNamedDeclaration: (n) => take(n.source),
    ImportExpression: (n) => take(n.source),
  });
  const out: string[] = [];
  for (const s of specs) {
    if (!s.startsWith('./') && !s.startsWith('../')) continue;
    const p = resolve(dirname(from), s.split(/[?#]/)[0]!);
    if (existsSync(p) && statSync(p).isFile()) out.push(p);
  }
  return out;
}
