/** Where the package's own files are, from the compiled location (dist/src/paths.js). */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUILTIN_AGENTS = join(PACKAGE_ROOT, 'agents');
export const EXAMPLES = join(PACKAGE_ROOT, 'examples');
