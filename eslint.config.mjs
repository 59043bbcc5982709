// typescript-eslint with type information; Node built-ins are banned in workflows/ (deterministic sandbox).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const deterministicPaths = nodeBuiltins.map((name) => ({
  name,
  message: 'workflow code must be deterministic: no Node built-ins',
}));
// Layers point down: adapters, activities and core import no entry point (client, cli, triggers, workers).
const layersBelowEntryPoints = [
  {
    group: ['**/client/*', '**/cli/*', '**/triggers/*', '**/workers/*'],
    message: 'layers point down: no entry point here',
  },
];
// Adapters (clients of the outside world) sit below the activities that use them.
const layersBelowActivities = [
  ...layersBelowEntryPoints,
  { group: ['**/activities/*', '**/workflows/*'], message: 'layers point down: adapters use no activity or workflow' },
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.ct/**', 'schemas/**', 'bin/**', 'eslint.config.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['workflows/**/*.ts', 'core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: deterministicPaths }],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'no process in deterministic code' },
        { name: 'setTimeout', message: 'use sleep() from @temporalio/workflow' },
        { name: 'setInterval', message: 'use sleep() from @temporalio/workflow' },
      ],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: layersBelowEntryPoints }] },
  },
  {
    files: ['adapters/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: layersBelowActivities }] },
  },
  {
    // Replaces the rule's options for core/: both its Node built-ins ban and the layering.
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: deterministicPaths,
          patterns: [...layersBelowActivities, { group: ['**/adapters/*'], message: 'core/ is pure: no adapter' }],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value=/activities/][importKind!='type']",
          message: 'import activities as types only',
        },
      ],
    },
  },
);
