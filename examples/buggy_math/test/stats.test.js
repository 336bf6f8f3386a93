import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mean, median, variance } from '../src/stats.js';

test('mean of a list', () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  assert.equal(mean([]), 0);
});

test('median of an odd-length list', () => {
  assert.equal(median([3, 1, 2]), 2);
});

test('median of an even-length list', () => {
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([10, 20]), 15);
});

test('variance of a list', () => {
  assert.equal(variance([2, 4, 4, 4, 5, 5, 7, 9]), 4);
});
