// ESLint (`npm run lint`): typescript-eslint's recommended rules plus the type-aware ones that catch a promise nobody
// awaits or handles (a lost rejection, or a write racing the next step), on every TypeScript file under the root
// tsconfig (apps, libs, test), and ESLint's recommended rules on the JavaScript files (bench, jest config, test support).
import eslint from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Test code: unit and repository specs next to the code, the integration suites, and the test-only lib. */
const TESTS = ['**/*.spec.ts', '**/*.repo-spec.ts', 'test/**/*.ts', 'libs/testing/**/*.ts'];

export default defineConfig(
  // `**/dist/`: also what `npm pack` builds in libs/sdk and the example's own build.
  globalIgnores(['dist/', '**/dist/', 'coverage/', 'node_modules/']),
  // A disable comment that no longer suppresses anything is stale and hides the next real finding on its line.
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  {
    files: ['**/*.ts'],
    extends: [eslint.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      // The project service gives each file the types of the tsconfig that covers it, so the rules see what tsc sees.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // `_` marks what a signature or destructuring needs but the code does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    files: TESTS,
    rules: {
      // Tests reach into SDKs for their own test vectors and internal signers, files without type declarations that
      // only require() can load with a stated type.
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.{js,cjs,mjs}'],
    extends: [eslint.configs.recommended],
    languageOptions: { globals: globals.node },
  },
  { files: ['**/*.{js,cjs}'], languageOptions: { sourceType: 'commonjs' } },
  // Jest loads these (reporter, setup helpers) into the test environment, where its globals exist.
  { files: ['test/**/*.js'], languageOptions: { globals: { ...globals.node, ...globals.jest } } },
);
