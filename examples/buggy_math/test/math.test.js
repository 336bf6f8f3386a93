import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clamp, range, sum } from '../src/math.js';

test('clamp keeps values inside the bounds', () => {
  assert.equal(clamp(5, 0, 10), 5);
  assert.equal(clamp(-1, 0, 10), 0);
  assert.equal(clamp(11, 0, 10), 10);
});

test('range counts from zero', () => {
  assert.deepEqual(range(4), [0, 1, 2, 3]);
  assert.deepEqual(range(0), []);
});

test('sum adds numbers', () => {
  assert.equal(sum([1, 2, 3]), 6);
  assert.equal(sum([]), 0);
});
