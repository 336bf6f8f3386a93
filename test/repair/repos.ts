/** Small buggy repositories the repair tests create (each a real project with real failing tests). */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative } from 'node:path';

export function writeRepo(root: string, files: Record<string, string>): string {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
  return root;
}

/** A hash of every file's path and content (to prove a repository was not modified). */
export function treeHash(root: string): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir).sort()) {
      const abs = join(dir, e);
      if (statSync(abs).isDirectory()) walk(abs);
      else h.update(`${relative(root, abs)}\0${readFileSync(abs, 'utf8')}\0`);
    }
  };
  walk(root);
  return h.digest('hex');
}

const pkg = (name: string, test = 'node --test'): string => JSON.stringify({ name, version: '1.0.0', private: true, type: 'module', scripts: { test } }, null, 2);

/** Off-by-one in a bound: `<` where the spec says inclusive (`<=`). node --test, tests in test/. */
export const boundsRepo = {
  'package.json': pkg('bounds'),
  'lib/window.js': `// Sliding-window helpers.
export function inRange(x, lo, hi) {
  // hi is inclusive
  return x >= lo && x < hi;
}

export function windows(xs, size) {
  const out = [];
  for (let i = 0; i + size <= xs.length; i++) out.push(xs.slice(i, i + size));
  return out;
}
`,
  'test/window.test.js': `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inRange, windows } from '../lib/window.js';

test('inRange includes both bounds', () => {
  assert.equal(inRange(1, 1, 5), true);
  assert.equal(inRange(5, 1, 5), true);
  assert.equal(inRange(6, 1, 5), false);
  assert.equal(inRange(0, 1, 5), false);
});

test('windows of size 2', () => {
  assert.deepEqual(windows([1, 2, 3], 2), [[1, 2], [2, 3]]);
});
`,
};

/** A wrong constant (off by one), CommonJS, its own test script without node --test (--test-cmd). */
export const lastRepo = {
  'package.json': JSON.stringify({ name: 'last', version: '1.0.0', private: true }, null, 2),
  'list.js': `'use strict';
function first(xs) {
  return xs[0];
}
function last(xs) {
  return xs[xs.length - 2];
}
module.exports = { first, last };
`,
  'check.js': `'use strict';
const assert = require('node:assert/strict');
const { first, last } = require('./list.js');
assert.equal(first([7, 8, 9]), 7);
assert.equal(last([7, 8, 9]), 9);
assert.equal(last([4]), 4);
console.log('all checks pass');
`,
};

/**
 * No single mutation fixes this one (label() is simply wrong), but the failing test runs two loops
 * whose `i++ -> i--` mutants hang (spin) and allocate without bound (fill): the search must kill both
 * and still finish.
 */
export const trapRepo = {
  'package.json': pkg('trap'),
  'src/work.js': `export function fill(n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(Buffer.alloc(1 << 20, i));
  return out.length;
}

export function spin(n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += i;
  return s;
}

export function label() {
  return 'wrong';
}
`,
  'test/work.test.js': `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fill, spin, label } from '../src/work.js';

test('label after work', () => {
  assert.equal(fill(3), 3);
  assert.equal(spin(4), 6);
  assert.equal(label(), 'right');
});
`,
};
