import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

const root = path.resolve(__dirname, '../..');

/**
 * One ESLint process with the project's configuration lints every case (loading ESLint and the
 * TypeScript parser is most of the cost; a process per case took ~1.3 s each). It runs outside
 * Jest, whose module sandbox cannot load the ESM config file.
 */
const SERVER = `
const path = require('node:path');
const { ESLint } = require('eslint');
const eslint = new ESLint({ cwd: process.cwd() });
require('node:readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const { id, file, code } = JSON.parse(line);
  const [r] = await eslint.lintText(code, { filePath: path.join(process.cwd(), file) });
  const out = r.messages.map((m) => (m.ruleId ?? '') + ': ' + m.message).join('\\n');
  process.stdout.write(JSON.stringify({ id, status: r.errorCount + r.warningCount ? 1 : 0, out }) + '\\n');
});
`;
let server: ChildProcessWithoutNullStreams;
const pending = new Map<number, (r: { status: number; out: string }) => void>();
let next = 0;

beforeAll(() => {
  server = spawn(process.execPath, ['-e', SERVER], { cwd: root });
  createInterface({ input: server.stdout }).on('line', (line) => {
    const { id, ...r } = JSON.parse(line) as { id: number; status: number; out: string };
    pending.get(id)?.(r);
    pending.delete(id);
  });
});
afterAll(() => server.kill());

/** Lints `code` as if it were the file `file`: status 1 and the messages when a rule fires. */
function lint(file: string, code: string): Promise<{ status: number; out: string }> {
  const id = next++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    server.stdin.write(`${JSON.stringify({ id, file, code })}\n`);
  });
}

describe('lint rule: workflows are deterministic', () => {
  it.each([
    ["import { readFileSync } from 'node:fs';"],
    ["import fs from 'fs';"],
    ["import { Pool } from 'pg';"],
    ["import { S3Client } from '@aws-sdk/client-s3';"],
    ["import { createDb } from '../lib/db';"],
  ])('forbids %s in workflow code', async (imp) => {
    const r = await lint('workflows/bad.ts', `${imp}\nexport const x = 1;\n`);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/no-restricted-imports/);
  });

  it('allows @temporalio/workflow and type-only imports of activities', async () => {
    const r = await lint(
      'workflows/good.ts',
      "import { proxyActivities } from '@temporalio/workflow';\nimport type { SmokeActivities } from '../activities/smoke';\n" +
        "export const a = proxyActivities<SmokeActivities>({ startToCloseTimeout: '1 minute' });\n",
    );
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('does not restrict the same imports outside workflows/', async () => {
    const r = await lint(
      'activities/ok.ts',
      "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n",
    );
    expect(r.status).toBe(0);
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
  ])('forbids in %s: %s', async (file, imp) => {
    const r = await lint(file, `${imp}\nexport const x = 1;\n`);
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
  ])('forbids SQL in activities: %s', async (code, rule) => {
    const r = await lint('activities/bad.ts', `${code}\n`);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(rule);
  });

  it('lets lib/ and workflows/ import contracts/', async () => {
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
      expect(await lint(file, `${imp}\n`)).toEqual({ status: 0, out: '' });
  });
});

describe('lint rule: portal forms are parsed by a schema', () => {
  it('refuses a form read by hand in a route', async () => {
    const r = await lint(
      'web/app/routes/bad.tsx',
      "export async function action({ request }: { request: Request }) {\n  return String((await request.formData()).get('x') ?? '');\n}\n",
    );
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/Parse the form with a schema/);
  });

  it('accepts formValues(await request.formData())', async () => {
    const r = await lint(
      'web/app/routes/ok.tsx',
      "import { formValues } from '../lib/form-schema';\nexport async function action({ request }: { request: Request }) {\n  return formValues(await request.formData());\n}\n",
    );
    expect(r).toEqual({ status: 0, out: '' });
  });
});
