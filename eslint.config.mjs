import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import { builtinModules } from 'node:module';

// Workflow code is replayed by Temporal and must be deterministic: no Node built-ins, no I/O
// libraries. Anything with side effects belongs in an activity.
const forbiddenInWorkflows = [
  ...builtinModules,
  ...builtinModules.map((m) => `node:${m}`),
  'pg',
  'kysely',
  '@aws-sdk/*',
  'pino',
  'express',
  'smtp-server',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];

/** Entry points, adapters and workflows: nothing in application/ or lib/ imports them. */
const ABOVE_APPLICATION = [
  '**/workflows/*',
  '**/activities/*',
  '**/web/*',
  '**/workers/*',
  '**/infra/*',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.data/**',
      'coverage/**',
      'test/fixtures/**',
      'build/**',
      '.react-router/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.jest } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // One direction of dependencies (docs/decisions/0017): lib/ is the domain layer under every
    // entry point, and contracts/ sits under lib/, importing nothing of ours.
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...ABOVE_APPLICATION, '**/application/*'],
              message:
                'lib/ imports nothing from workflows/, activities/, application/, web/, workers/ or infra/; what they share with lib/ lives in contracts/.',
            },
          ],
        },
      ],
    },
  },
  {
    // The application layer (the portal's use cases) sits on lib/ and contracts/, under the
    // entry points that call it.
    files: ['application/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ABOVE_APPLICATION,
              message:
                'application/ uses lib/ and contracts/; entry points (web/, workers/) call it, never the other way.',
            },
          ],
        },
      ],
    },
  },
  {
    // Activities are adapters between Temporal and lib/: the SQL lives in lib/ (issue 18 §5).
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'kysely', message: 'Activities hold no SQL: call a lib/ function.' }] },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.property.name=/^(selectFrom|updateTable|insertInto|deleteFrom|replaceInto|mergeInto)$/]',
          message: 'Activities hold no SQL: call a lib/ function.',
        },
      ],
    },
  },
  {
    // Portal actions read their forms through one schema each (web/app/lib/form-schema.ts).
    files: ['web/app/routes/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.property.name='formData']:not(CallExpression[callee.name='formValues'] > AwaitExpression > CallExpression)",
          message: 'Parse the form with a schema: parseForm(request, schema) (lib/form-schema.ts).',
        },
      ],
    },
  },
  {
    files: ['contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*', '!./*'],
              message:
                'contracts/ imports nothing of ours: every layer, workflows too, imports it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: forbiddenInWorkflows
            .filter((m) => !m.includes('*'))
            .map((name) => ({
              name,
              message:
                'Workflow code must be deterministic: no I/O or Node built-ins; use an activity.',
            })),
          patterns: [
            {
              group: forbiddenInWorkflows
                .filter((m) => m.includes('*'))
                .concat(['../lib/*', '../activities/*']),
              allowTypeImports: true,
              message: 'Workflows may import only types from activities/lib; use proxyActivities.',
            },
          ],
        },
      ],
    },
  },
  prettier,
);
