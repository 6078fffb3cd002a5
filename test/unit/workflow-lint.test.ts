import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** Runs ESLint on `code` as if it were the file `file`; returns its exit code and output. */
function lint(file: string, code: string) {
  const r = spawnSync(
    process.execPath,
    [
      path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'),
      '--stdin',
      '--stdin-filename',
      file,
    ],
    {
      cwd: root,
      input: code,
      encoding: 'utf8',
    },
  );
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('lint rule: workflows are deterministic', () => {
  it.each([
    ["import { readFileSync } from 'node:fs';"],
    ["import fs from 'fs';"],
    ["import { Pool } from 'pg';"],
    ["import { S3Client } from '@aws-sdk/client-s3';"],
    ["import { createDb } from '../lib/db';"],
  ])('forbids %s in workflow code', (imp) => {
    const r = lint('workflows/bad.ts', `${imp}\nexport const x = 1;\n`);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/no-restricted-imports/);
  });

  it('allows @temporalio/workflow and type-only imports of activities', () => {
    const r = lint(
      'workflows/good.ts',
      "import { proxyActivities } from '@temporalio/workflow';\nimport type { SmokeActivities } from '../activities/smoke';\n" +
        "export const a = proxyActivities<SmokeActivities>({ startToCloseTimeout: '1 minute' });\n",
    );
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('does not restrict the same imports outside workflows/', () => {
    expect(
      lint(
        'activities/ok.ts',
        "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
      ).status,
    ).toBe(0);
  });
});

describe('lint rule: dependencies point one way', () => {
  it.each([
    ['lib/x/bad.ts', "import type { ExportProgress } from '../../workflows/export-mailbox';"],
    ['lib/x/bad.ts', "import type { GrantRef } from '../../activities/with-grant';"],
    ['lib/x/bad.ts', "import { createPortalServices } from '../../application/portal';"],
    ['application/bad.ts', "import { bodyLimit } from '../web/body-limit';"],
    ['application/bad.ts', "import type { ExportActivities } from '../activities/export';"],
    ['lib/x/bad.ts', "import { freePort } from '../../infra/processes';"],
    ['lib/bad.ts', "import { config } from '../workers/cli';"],
    ['contracts/bad.ts', "import type { Db } from '../lib/db';"],
  ])('forbids in %s: %s', (file, imp) => {
    const r = lint(file, `${imp}\nexport const x = 1;\n`);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/no-restricted-imports/);
  });

  it.each([
    ["import { sql } from 'kysely';\nexport const q = sql`select 1`;", /no-restricted-imports/],
    [
      "import type { Db } from '../lib/db';\nexport const q = (db: Db) => db.selectFrom('messages').selectAll().execute();",
      /no-restricted-syntax/,
    ],
    [
      "import type { Db } from '../lib/db';\nexport const q = (db: Db) => db.updateTable('exports').set({}).execute();",
      /no-restricted-syntax/,
    ],
  ])('forbids SQL in activities: %s', (code, rule) => {
    const r = lint('activities/bad.ts', `${code}\n`);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(rule);
  });

  it('lets lib/ and workflows/ import contracts/', () => {
    const allowed: [string, string][] = [
      [
        'lib/x/ok.ts',
        "import type { ExportInput } from '../../contracts/export';\nexport type X = ExportInput;",
      ],
      [
        'workflows/ok.ts',
        "import { TENANT_ID } from '../contracts/search-attributes';\nexport const k = TENANT_ID;",
      ],
    ];
    for (const [file, imp] of allowed)
      expect(lint(file, `${imp}\n`)).toEqual({ status: 0, out: '' });
  });
});

describe('lint rule: portal forms are parsed by a schema', () => {
  it('refuses a form read by hand in a route', () => {
    const r = lint(
      'web/app/routes/bad.tsx',
      "export async function action({ request }: { request: Request }) {\n  return String((await request.formData()).get('x') ?? '');\n}\n",
    );
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/Parse the form with a schema/);
  });

  it('accepts formValues(await request.formData())', () => {
    const r = lint(
      'web/app/routes/ok.tsx',
      "import { formValues } from '../lib/form-schema';\nexport async function action({ request }: { request: Request }) {\n  return formValues(await request.formData());\n}\n",
    );
    expect(r).toEqual({ status: 0, out: '' });
  });
});
