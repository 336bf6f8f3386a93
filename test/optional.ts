/**
 * Tests that need a program beyond Node (Chromium, redis-server, python3). On a machine with only Node
 * they are skipped with a printed notice, so `npm install && npm test` passes there. Where the program must
 * be there (CI: .ci/run installs them), AGENTOS_REQUIRE_OPTIONAL turns a missing program into a failure:
 * `1` or `all` for every optional program, or a comma list of names (`chromium,redis-server`).
 *
 *   const CHROME = optionalTool(CHROMIUM);            // path, or undefined (notice printed)
 *   describe.skipIf(!CHROME)('needs chromium', ...);
 *
 * The lookup order is src/platform/tools.ts's (the same as `agentos doctor`): the spec's environment
 * variable alone when set, else its absolute paths, else its names on PATH.
 */
import { findTool, type ToolSpec } from '../src/platform/tools.js';

/** Whether AGENTOS_REQUIRE_OPTIONAL makes this program required. */
export function required(name: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.AGENTOS_REQUIRE_OPTIONAL ?? '').trim();
  if (v === '' || v === '0') return false;
  if (v === '1' || v === 'all') return true;
  return v.split(',').map((s) => s.trim()).includes(name);
}

/**
 * The program's absolute path, or undefined after printing a skip notice to stderr. Throws when the
 * program is missing and AGENTOS_REQUIRE_OPTIONAL requires it (the test file then fails to load: loud).
 */
export function optionalTool(spec: ToolSpec, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const found = findTool(spec, env);
  if (found.path) return found.path;
  const what = `${spec.name} not found (tried ${found.tried.join(', ')})`;
  if (required(spec.name, env)) throw new Error(`${what}, and AGENTOS_REQUIRE_OPTIONAL=${env.AGENTOS_REQUIRE_OPTIONAL} requires it: install it (agentos doctor says how)`);
  // process.stderr, not console: vitest prints it even for a skipped file.
  process.stderr.write(`\nNOTICE: ${what}: skipping the tests that need it. Install it (see agentos doctor)${spec.env ? ` or set ${spec.env}` : ''}; set AGENTOS_REQUIRE_OPTIONAL=1 to make this a failure.\n\n`);
  return undefined;
}
