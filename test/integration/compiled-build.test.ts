import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, copyFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitFor } from '../../infra/processes';
import { LmtpClient } from '../../infra/lmtp-client';
import { writeWorkflowBundle } from '../../lib/temporal/bundle';
import { readBuildInfo, type BuildInfo } from '../../lib/process/build-info';
import { stackConfig } from '../helpers/stack-env';
import {
  archived,
  archiveTenant,
  archiveWorkflowOf,
  openArchiveContext,
  simpleMail,
  type ArchiveContext,
} from '../helpers/archive';

/**
 * Issue 18 §2: `npm run build` compiles every process to JavaScript that plain `node` runs (no
 * tsx, no TypeScript), stamped with a build id, and the compiled worker runs only the workflow
 * bundle of its own build. Here a mail goes through the compiled LMTP process and the compiled
 * worker (on a task queue of their own), and the compiled portal server serves the portal.
 */
const repo = path.resolve(__dirname, '..', '..');
const out = path.join(repo, 'build', `test-dist-${process.pid}`);
let build: BuildInfo;
let ctx: ArchiveContext & { close(): Promise<void> };
const children: ChildProcess[] = [];

/** The environment of a production process: the stack's, with nothing that loads TypeScript. */
function plainEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'info', ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

function startCompiled(rel: string, extra: Record<string, string>) {
  let output = '';
  const child = spawn(process.execPath, [path.join(out, rel)], {
    env: plainEnv(extra),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  children.push(child);
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  /** Waits for a line of the process's output; fails with that output when it never comes. */
  const logged = (line: RegExp) =>
    waitFor(rel, async () => line.test(output) || undefined, 60_000, child).catch((e: Error) => {
      throw new Error(`${e.message}\n${output.slice(-3000)}`);
    });
  return { child, exited, output: () => output, logged };
}

/** `npm run build` without the portal (the stack has built it) and the type check (npm test has). */
function buildInto(dir: string): void {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'infra/build.ts', '--no-portal', '--no-typecheck', '--out', dir],
    { cwd: repo, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
}

beforeAll(async () => {
  buildInto(out);
  build = readBuildInfo(out);
  ctx = await openArchiveContext(stackConfig());
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await ctx?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('npm run build', () => {
  it('compiles every process to JavaScript and stamps the build', () => {
    for (const entry of [
      'web/server.js',
      'workers/lmtp.js',
      'workers/temporal.js',
      'workers/cli.js',
      'workers/migrate.js',
      'workers/codec-server.js',
      build.workflowBundle.file,
    ])
      expect(readdirSync(path.dirname(path.join(out, entry)))).toContain(path.basename(entry));
    const files = readdirSync(out, { recursive: true }).map(String);
    expect(files.filter((f) => /\.tsx?$/.test(f))).toEqual([]);
    expect(build.buildId).toMatch(/^[0-9a-f]{16}$/);

    const cli = spawnSync(process.execPath, [path.join(out, 'workers/cli.js'), '--version'], {
      env: plainEnv({}),
      encoding: 'utf8',
    });
    expect(cli.stderr).toBe('');
    expect(cli.stdout.trim()).toBe(`${build.version} (build ${build.buildId})`);
  });

  it('the same sources build to the same id', () => {
    buildInto(out);
    const again = readBuildInfo(out);
    expect(again.builtAt).not.toBe(build.builtAt);
    expect(again.buildId).toBe(build.buildId);
    expect(again.workflowBundle.sha256).toBe(build.workflowBundle.sha256);
  }, 120_000);
});

describe('the compiled processes', () => {
  it('archive a mail end to end: compiled LMTP, compiled worker, workflows from the build', async () => {
    const taskQueue = `compiled-${randomUUID()}`;
    const worker = startCompiled('workers/temporal.js', {
      TEMPORAL_TASK_QUEUE: taskQueue,
      LEDGER_SCHEDULE_OWNER: 'false',
      WORKER_METRICS_PORT: '0',
      TEMPORAL_SDK_METRICS_PORT: '0',
      WORKFLOW_BUNDLE: '',
    });
    const lmtpPort = await freePort();
    const lmtp = startCompiled('workers/lmtp.js', {
      TEMPORAL_TASK_QUEUE: taskQueue,
      LMTP_PORT: String(lmtpPort),
      LMTP_METRICS_PORT: '0',
    });
    await worker.logged(/worker started/);
    await lmtp.logged(/LMTP listening/);
    expect(worker.output()).toContain(build.buildId);

    const address = `archiv-${randomUUID().slice(0, 8)}@kompiliert.example`;
    const tenant = await archiveTenant(ctx, `Kompiliert ${randomUUID().slice(0, 6)}`, address);
    const mail = simpleMail('Aus dem Build');
    const client = await LmtpClient.connect(lmtpPort);
    try {
      const d = await client.send(mail, 'journal@mta.example', [address]);
      expect(d.data[address]).toMatch(/^250/);
    } finally {
      client.close();
    }
    const { plaintext, result } = await archived(ctx, tenant, mail);
    expect(plaintext.equals(mail)).toBe(true);

    // The history names the worker that ran it, and that worker is this build's.
    const handle = await archiveWorkflowOf(ctx.temporal, result.messageId);
    const history = await handle.fetchHistory();
    const identities = history
      .events!.map((e) => e.workflowTaskStartedEventAttributes?.identity)
      .filter(Boolean);
    expect(identities.length).toBeGreaterThan(0);
    for (const id of identities) expect(id).toContain(`build ${build.buildId}`);
    expect(result.ledgerIndex).toBeGreaterThanOrEqual(0);

    worker.child.kill('SIGTERM');
    lmtp.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 180_000);

  it('the worker refuses a workflow bundle from another build', async () => {
    const foreign = path.join(out, 'foreign-bundle.js');
    copyFileSync(path.join(out, build.workflowBundle.file), foreign);
    appendFileSync(foreign, '\n// one changed line\n');
    // …and one bundled from the sources, as the dev stack does.
    const fromSources = (await writeWorkflowBundle(path.join(out, 'from-sources'))).path;
    for (const bundle of [foreign, fromSources]) {
      const w = startCompiled('workers/temporal.js', {
        TEMPORAL_TASK_QUEUE: `refused-${randomUUID()}`,
        LEDGER_SCHEDULE_OWNER: 'false',
        WORKER_METRICS_PORT: '0',
        TEMPORAL_SDK_METRICS_PORT: '0',
        WORKFLOW_BUNDLE: bundle,
      });
      expect(await w.exited).toBe(1);
      expect(w.output()).toContain(`refusing workflow bundle ${bundle}`);
      expect(w.output()).not.toContain('worker started');
    }
  }, 60_000);

  it('the compiled portal server serves the portal', async () => {
    const port = await freePort();
    const web = startCompiled('web/server.js', { WEB_PORT: String(port), WEB_METRICS_PORT: '0' });
    await web.logged(/listening/);
    const res = await fetch(`http://127.0.0.1:${port}/login`);
    if (res.status !== 200) throw new Error(`/login: ${res.status}\n${web.output().slice(-3000)}`);
    expect(await res.text()).toContain('<form');
    expect(readFileSync(path.join(out, 'web/server.js'), 'utf8')).not.toMatch(/require\("tsx/);
  }, 90_000);
});
