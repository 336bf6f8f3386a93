/**
 * A read-only repository scan: files, languages, lines, tests, TODO/FIXME and the largest files. Skips
 * .git, node_modules, dist, coverage and .agentos, never follows a symlink that leaves the root (it is listed as refused), and
 * reads at most `maxBytes` of any one file.
 */
import { closeSync, lstatSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import { isTestFile } from './repo.js';

const LANG: Record<string, string> = {
  '.js': 'JavaScript', '.mjs': 'JavaScript', '.cjs': 'JavaScript', '.jsx': 'JavaScript', '.ts': 'TypeScript', '.tsx': 'TypeScript', '.mts': 'TypeScript',
  '.json': 'JSON', '.md': 'Markdown', '.yaml': 'YAML', '.yml': 'YAML', '.py': 'Python', '.go': 'Go', '.rs': 'Rust', '.c': 'C', '.h': 'C', '.cpp': 'C++',
  '.java': 'Java', '.sh': 'Shell', '.html': 'HTML', '.css': 'CSS', '.toml': 'TOML', '.sql': 'SQL', '.rb': 'Ruby',
};
// Dependencies, VCS data, build output and AgentOS run directories are not the repository's own files.
const SKIP = new Set(['.git', 'node_modules', '.agentos', 'dist', 'coverage']);

export interface ScanResult {
  root: string;
  files: number;
  lines: number;
  bytes: number;
  languages: Array<{ language: string; files: number; lines: number }>;
  tests: string[];
  todos: Array<{ file: string; line: number; text: string }>;
  largest: Array<{ file: string; bytes: number; lines: number }>;
  refused_symlinks: Array<{ path: string; target: string }>;
  truncated: boolean;
}

function readHead(file: string, max: number): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(max);
    const n = readSync(fd, buf, 0, max, 0);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Scan `root`, or only the given top-level entries of it (a shard, for fan-out). */
export function scanRepo(rootIn: string, opts: { only?: string[]; maxFiles?: number; maxBytes?: number } = {}): ScanResult {
  const root = realpathSync(resolve(rootIn));
  const maxFiles = opts.maxFiles ?? 20_000;
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  const res: ScanResult = { root, files: 0, lines: 0, bytes: 0, languages: [], tests: [], todos: [], largest: [], refused_symlinks: [], truncated: false };
  const langs = new Map<string, { files: number; lines: number }>();
  const sizes: Array<{ file: string; bytes: number; lines: number }> = [];
  const inside = (p: string): boolean => p === root || p.startsWith(root + sep);
  const visit = (abs: string): void => {
    if (res.files >= maxFiles) {
      res.truncated = true;
      return;
    }
    const rel = relative(root, abs).split(sep).join('/');
    let st = lstatSync(abs);
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = realpathSync(abs);
      } catch {
        res.refused_symlinks.push({ path: rel, target: '(dangling)' });
        return;
      }
      if (!inside(target)) {
        res.refused_symlinks.push({ path: rel, target });
        return;
      }
      return; // inside the root: its target is scanned where it lives
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(abs).sort()) if (!SKIP.has(e)) visit(join(abs, e));
      return;
    }
    if (!st.isFile()) return;
    st = statSync(abs);
    const text = readHead(abs, maxBytes);
    if (text.includes('\u0000')) return; // binary
    const lines = text.length === 0 ? 0 : text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    res.files++;
    res.lines += lines;
    res.bytes += st.size;
    const lang = LANG[extname(abs).toLowerCase()] ?? 'Other';
    const l = langs.get(lang) ?? { files: 0, lines: 0 };
    l.files++;
    l.lines += lines;
    langs.set(lang, l);
    sizes.push({ file: rel, bytes: st.size, lines });
    if (isTestFile(rel) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(rel)) res.tests.push(rel);
    if (res.todos.length < 200) {
      text.split('\n').forEach((line, i) => {
        if (/\b(TODO|FIXME)\b/.test(line) && res.todos.length < 200) res.todos.push({ file: rel, line: i + 1, text: line.trim().slice(0, 120) });
      });
    }
  };
  const top = opts.only ?? readdirSync(root).filter((e) => !SKIP.has(e)).sort();
  for (const e of top) visit(join(root, e));
  res.languages = [...langs.entries()].map(([language, v]) => ({ language, ...v })).sort((a, b) => b.lines - a.lines);
  res.largest = sizes.sort((a, b) => b.bytes - a.bytes).slice(0, 10);
  return res;
}

/** Merge shard scans of the same root. */
export function mergeScans(parts: ScanResult[]): ScanResult {
  const first = parts[0];
  if (!first) throw new Error('mergeScans: nothing to merge');
  const langs = new Map<string, { files: number; lines: number }>();
  for (const p of parts) for (const l of p.languages) {
    const cur = langs.get(l.language) ?? { files: 0, lines: 0 };
    cur.files += l.files;
    cur.lines += l.lines;
    langs.set(l.language, cur);
  }
  return {
    root: first.root,
    files: parts.reduce((n, p) => n + p.files, 0),
    lines: parts.reduce((n, p) => n + p.lines, 0),
    bytes: parts.reduce((n, p) => n + p.bytes, 0),
    languages: [...langs.entries()].map(([language, v]) => ({ language, ...v })).sort((a, b) => b.lines - a.lines),
    tests: parts.flatMap((p) => p.tests).sort(),
    todos: parts.flatMap((p) => p.todos).slice(0, 200),
    largest: parts.flatMap((p) => p.largest).sort((a, b) => b.bytes - a.bytes).slice(0, 10),
    refused_symlinks: parts.flatMap((p) => p.refused_symlinks),
    truncated: parts.some((p) => p.truncated),
  };
}

/** Split the top-level entries of a root into at most `n` shards of similar size (for fan-out). */
export function shardTopLevel(rootIn: string, n: number): string[][] {
  const root = resolve(rootIn);
  const entries = readdirSync(root).filter((e) => !SKIP.has(e)).sort();
  const weight = (e: string): number => {
    try {
      const st = lstatSync(join(root, e));
      return st.isDirectory() ? 10 : 1;
    } catch {
      return 1;
    }
  };
  const shards: Array<{ items: string[]; w: number }> = Array.from({ length: Math.max(1, Math.min(n, entries.length)) }, () => ({ items: [], w: 0 }));
  for (const e of entries.sort((a, b) => weight(b) - weight(a))) {
    const s = shards.reduce((min, x) => (x.w < min.w ? x : min));
    s.items.push(e);
    s.w += weight(e);
  }
  return shards.map((s) => s.items.sort()).filter((s) => s.length > 0);
}
