/**
 * Real headless Chromium driven by playwright-core, for the dashboard tests. Found as test/optional.ts
 * finds optional programs (AGENTOS_CHROMIUM, then /usr/bin/chromium, then chromium on PATH); when there is
 * none, CHROMIUM is undefined and the browser tests are skipped with a printed notice (a failure under
 * AGENTOS_REQUIRE_OPTIONAL, as in CI).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM as CHROMIUM_SPEC } from '../../src/platform/tools.js';
import { descendants, ROOT } from '../helpers.js';
import { optionalTool } from '../optional.js';

export const CHROMIUM: string | undefined = optionalTool(CHROMIUM_SPEC);
export const ARTIFACTS = join(ROOT, 'test-artifacts');

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchBrowser(): Promise<Browser> {
  if (!CHROMIUM) throw new Error('no Chromium: guard the test with describe.skipIf(!CHROMIUM)');
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 60_000 });
}

/** Pids of the Chromium processes this test process started (to check they are gone after close). */
export function chromiumPids(): number[] {
  return descendants(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('chromium');
    } catch {
      return false;
    }
  });
}
