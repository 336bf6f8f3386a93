/**
 * The repository under repair: copying it (the input is never touched), telling test files from source,
 * and running its test command. Everything here runs inside agent processes too, so it uses builtins only.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

const SKIP_DIRS = new Set(['.git', 'node_modules', '.agentos', 'coverage', 'dist']);

/**
 * Copy a repository without .git; node_modules is linked, not copied (it is read, never repaired).
 * A plain walk rather than fs.cpSync: cpSync stats every parent of the destination up to the root,
 * which a sandboxed agent may not read.
 */
export function copyRepo(from: string, to: string): void {
  const walk = (src: string, dst: string): void => {
    mkdirSync(dst, { recursive: true });
    for (const e of readdirSync(src, { withFileTypes: true })) {
      if (src === from && (e.name === '.git' || e.name === 'node_modules' || e.name === '.agentos')) continue;
      const s = join(src, e.name);
      const d = join(dst, e.name);
      if (e.isSymbolicLink()) symlinkSync(readlinkSync(s), d);
      else if (e.isDirectory()) walk(s, d);
      else if (e.isFile()) copyFileSync(s, d);
    }
  };
  walk(from, to);
  const nm = join(from, 'node_modules');
  if (existsSync(nm) && !existsSync(join(to, 'node_modules'))) symlinkSync(nm, join(to, 'node_modules'), 'dir');
}

/** Whether a path (relative, / separators) is a test file by node --test's default patterns. */
export function isTestFile(rel: string): boolean {
  const base = rel.split('/').pop() ?? '';
  if (!/\.[cm]?js$/.test(base)) return false;
  return /^test\//.test(rel) || /\/test\//.test(rel) || /^(test|test-.+)\.[cm]?js$/.test(base) || /[.\-_]test\.[cm]?js$/.test(base);
}

/** JavaScript files of the repository (relative, / separators), skipping dependencies and build output. */
export function listJsFiles(root: string, limit = 5000): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (out.length >= limit) return;
      if (e.isSymbolicLink()) continue;
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(abs);
      } else if (/\.[cm]?js$/.test(e.name)) {
        out.push(relative(root, abs).split(sep).join('/'));
      }
    }
  };
  walk(root);
  return out.sort();
}

/** The source files the search may mutate: JavaScript that is not a test, not config. */
export function sourceFiles(root: string): string[] {
  return listJsFiles(root).filter((f) => !isTestFile(f) && !/(^|\/)(eslint|vitest|jest|prettier|rollup|webpack)\.config\.[cm]?js$/.test(f));
}

/** The test command: the one given, else the repo's `npm test`. */
export function defaultTestCmd(root: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    if (pkg.scripts?.test) return 'npm test --silent';
  } catch {
    // no package.json: fall through
  }
  return 'node --test';
}

/** Whether the test command is Node's own runner (so single tests can be re-run by name). */
export function usesNodeTestRunner(root: string, cmd: string): boolean {
  if (/\bnode\b[^|;&]*--test\b/.test(cmd)) return true;
  if (!/^npm (run )?test\b/.test(cmd.trim())) return false;
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    return /\bnode\b[^|;&]*--test\b/.test(pkg.scripts?.test ?? '');
  } catch {
    return false;
  }
}

export interface CommandResult {
  code: number | null;
  signal: string | null;
  output: string;
  ms: number;
}

/**
 * Run a shell command in a directory and collect its output (capped). No time limit of its own: it runs
 * in the agent's process group, so the kernel's timeout, memory quota or cancel ends it with the agent.
 */
export function runShell(cmd: string, cwd: string, env: NodeJS.ProcessEnv = {}, maxOutput = 256 * 1024): Promise<CommandResult> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', cmd], { cwd, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (b: Buffer): void => {
      if (output.length < maxOutput) output += b.toString('utf8');
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, output: output.slice(0, maxOutput), ms: Math.round(performance.now() - t0) }));
  });
}

/** Whether a path exists and is not a symlink (for scans). */
export function isPlainEntry(p: string): boolean {
  try {
    return !lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
