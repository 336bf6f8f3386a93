/**
 * Finding the optional programs AgentOS (and its tests) can use: Chromium, redis-server, python3. One
 * resolution order for everyone (`agentos doctor`, test/optional.ts, later the kernel): an environment
 * variable names the program explicitly and then wins alone (a wrong value is reported, never silently
 * replaced by another binary); else fixed absolute paths; else a name looked up on PATH.
 */
import { accessSync, constants, readFileSync, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Where to look for one program. */
export interface ToolSpec {
  /** Human name, e.g. 'chromium'. */
  name: string;
  /** Environment variable that names the program (checked first, and alone when set). */
  env?: string;
  /** Absolute paths tried in order, then bare names searched on PATH. */
  candidates: readonly string[];
}

/** Where a program was found, or why not. */
export interface ToolLookup {
  name: string;
  /** Absolute path of the program, undefined when missing. */
  path: string | undefined;
  /** How it was found: 'env' (the variable), 'path' (an absolute candidate), 'PATH' (a PATH search). */
  via?: 'env' | 'path' | 'PATH';
  /** When missing: what was tried, in order. */
  tried: string[];
}

export const CHROMIUM: ToolSpec = { name: 'chromium', env: 'AGENTOS_CHROMIUM', candidates: ['/usr/bin/chromium', 'chromium'] };
export const REDIS_SERVER: ToolSpec = { name: 'redis-server', env: 'AGENTOS_REDIS_SERVER', candidates: ['/usr/bin/redis-server', 'redis-server'] };
export const PYTHON3: ToolSpec = { name: 'python3', env: 'AGENTOS_PYTHON', candidates: ['python3', '/usr/bin/python3'] };

function executable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable file called `name` in the PATH directories (like `command -v`), or undefined. */
export function onPath(name: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (executable(p)) return p;
  }
  return undefined;
}

/** Find a program by its spec. Never throws; `env` defaults to process.env. */
export function findTool(spec: ToolSpec, env: NodeJS.ProcessEnv = process.env): ToolLookup {
  const tried: string[] = [];
  const fromEnv = spec.env ? env[spec.env] : undefined;
  if (spec.env && fromEnv) {
    const p = isAbsolute(fromEnv) ? fromEnv : onPath(fromEnv, env.PATH);
    if (p && executable(p)) return { name: spec.name, path: p, via: 'env', tried };
    return { name: spec.name, path: undefined, tried: [`${spec.env}=${fromEnv} (not an executable file)`] };
  }
  for (const c of spec.candidates) {
    if (isAbsolute(c)) {
      if (executable(c)) return { name: spec.name, path: c, via: 'path', tried };
      tried.push(c);
    } else {
      const p = onPath(c, env.PATH);
      if (p) return { name: spec.name, path: p, via: 'PATH', tried };
      tried.push(`${c} on PATH`);
    }
  }
  if (spec.env) tried.unshift(`${spec.env} (unset)`);
  return { name: spec.name, path: undefined, tried };
}

/**
 * Whether an executable is a pyenv (or similar) shim: a shell script that runs `pyenv exec` to pick the
 * interpreter, which costs tens of milliseconds on every start.
 */
export function isShim(path: string): boolean {
  if (/[/\\]shims[/\\]/.test(path)) return true;
  try {
    const head = readFileSync(realpathSync(path)).subarray(0, 512).toString('latin1');
    return head.startsWith('#!') && /pyenv|asdf|rtx|mise/.test(head);
  } catch {
    return false;
  }
}
