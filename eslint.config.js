// Lint config: typescript-eslint's recommended rules over our TypeScript, plain JS agents and tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // test/repair/fixtures: buggy programs kept as written (their bugs are what lint would flag).
  { ignores: ['dist/**', 'node_modules/**', '.agentos/**', 'coverage/**', 'test-artifacts/**', 'test/repair/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // CommonJS config files (dependency-cruiser reads .cjs).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // The dashboard page: plain browser JavaScript.
    files: ['src/dashboard/web/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { window: 'readonly', document: 'readonly', location: 'readonly', WebSocket: 'readonly', fetch: 'readonly', requestAnimationFrame: 'readonly', URLSearchParams: 'readonly', Node: 'readonly' },
    },
  },
);
