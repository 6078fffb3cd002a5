import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ensureDevLmtpCert } from './dev-tls';
import { devTsaDir, tsaUrls, type Config } from '../lib/config';
import { createS3, ensureBucket } from '../lib/storage/s3';
import { recentWorkflowPollers } from '../lib/temporal/pollers';
import { ensureBinaries } from './binaries';
import { ensureDevIngestCa } from '../lib/ingest/ingest-ca';
import { isPortOpen, ProcessGroup, waitFor } from './processes';
import { startMinio } from './services/minio';
import { resolveDatabase, type ResolvedDatabase } from './services/postgres';
import { startTemporal } from './services/temporal';

/**
 * Brings up the whole product: Temporal, MinIO, PostgreSQL, the dev TSA, then the Temporal worker,
 * the LMTP worker and the portal. Used by `npm run dev` and by the integration tests (with their own
 * ports, data directory and database), so both run exactly the same start-up code.
 */

export type AppProcess = 'codec-server' | 'worker' | 'lmtp' | 'web';

export interface StackOptions {
  cfg: Config;
  dataDir: string;
  /** DATABASE_URL as the user set it; unset means "local server, else embedded". */
  explicitDatabaseUrl?: string;
  ports: {
    temporal: number;
    temporalHttp: number;
    temporalMetrics: number;
    temporalUi?: number;
    s3: number;
    s3Console: number;
    tsa: number;
    /** The second dev TSA (its own root). */
    tsa2: number;
    lmtp: number;
    /** SMTP journaling, served by the LMTP process (0: off). */
    journalSmtp?: number;
    web: number;
    codec: number;
    embeddedPg: number;
    /** Prometheus endpoints of the processes (0: off). */
    lmtpMetrics?: number;
    workerMetrics?: number;
    webMetrics?: number;
    sdkMetrics?: number;
  };
  /** Persist Temporal in SQLite under dataDir (dev); otherwise in memory (tests). */
  persistTemporal: boolean;
  /** Use this S3 endpoint instead of starting MinIO (fault scripts run a MinIO cluster). */
  s3Endpoint?: string;
  /** Run an embedded PostgreSQL even when a local server answers (fault scripts restart it). */
  embeddedPostgres?: boolean;
  apps: AppProcess[];
  /**
   * Where the portal is built; inside the repository, because its server bundle resolves
   * react & co. from node_modules. Default build/portal.
   */
  portalBuildDir?: string;
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface Stack {
  env: NodeJS.ProcessEnv;
  urls: { name: string; url: string }[];
  database: ResolvedDatabase;
  /** Stop (SIGTERM), kill (-9) and start one backing service while the rest runs on (fault tests). */
  services: Record<
    BackingService,
    { stop(): Promise<void>; kill(): Promise<void>; start(): Promise<void> }
  >;
  stop(): Promise<void>;
}

export type BackingService = 'temporal' | 'minio' | 'tsa' | 'postgres';
type DevTsa = 'dev-tsa' | 'dev-tsa-2';

const repo = path.resolve(__dirname, '..');
/**
 * Node flags of the product's serving processes: a small young generation keeps each scavenge
 * short, which halves the p99 of proof serving on 2 cores (docs/decisions/0006).
 */
export const SERVING_NODE_FLAGS = ['--max-semi-space-size=2'];

/** MAILREPO_CPU_PROFILE_DIR: each app process writes a V8 CPU profile there when it exits. */
const profileFlags = () =>
  process.env.MAILREPO_CPU_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.MAILREPO_CPU_PROFILE_DIR}`]
    : [];

const script = (rel: string): [string, string[]] => [
  process.execPath,
  [...SERVING_NODE_FLAGS, ...profileFlags(), '--import', 'tsx', path.join(repo, rel)],
];
const APP_SCRIPTS: Record<AppProcess | DevTsa, string> = {
  'dev-tsa': 'workers/dev-tsa.ts',
  'dev-tsa-2': 'workers/dev-tsa.ts',
  'codec-server': 'workers/codec-server.ts',
  worker: 'workers/temporal.ts',
  lmtp: 'workers/lmtp.ts',
  web: 'web/server.ts',
};

export async function startStack(o: StackOptions): Promise<Stack> {
  const log = o.log ?? ((l: string) => console.log(l));
  const { cfg, ports } = o;
  const group = new ProcessGroup({
    quiet: o.quiet,
    onUnexpectedExit: (name, code) => log(`!! ${name} exited unexpectedly (code ${code})`),
  });
  let database: ResolvedDatabase | undefined;
  const stop = async () => {
    await group.stopAll();
    await database?.embedded?.stop();
  };

  try {
    const busy = [];
    for (const [name, port] of Object.entries(ports))
      if (port && name !== 'embeddedPg' && (await isPortOpen(port))) busy.push(`${name}:${port}`);
    if (busy.length)
      throw new Error(
        `ports already in use: ${busy.join(', ')} — is another mailrepo stack running?`,
      );

    const bins = await ensureBinaries((l) => log(l));
    const codecEndpoint = o.apps.includes('codec-server')
      ? `http://127.0.0.1:${ports.codec}`
      : undefined;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: cfg.NODE_ENV,
      DATA_DIR: o.dataDir,
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
      TEMPORAL_NAMESPACE: cfg.TEMPORAL_NAMESPACE,
      TEMPORAL_TASK_QUEUE: cfg.TEMPORAL_TASK_QUEUE,
      S3_ENDPOINT: o.s3Endpoint ?? `http://127.0.0.1:${ports.s3}`,
      TSA_URL: `http://127.0.0.1:${ports.tsa}/tsa,http://127.0.0.1:${ports.tsa2}/tsa`,
      DEV_TSA_PORT: String(ports.tsa),
      DEV_TSA_2_PORT: String(ports.tsa2),
      TSA_CA_FILE:
        cfg.TSA_CA_FILE ??
        [1, 2].map((n) => path.join(devTsaDir(o.dataDir, n as 1 | 2), 'ca.pem')).join(','),
      LMTP_PORT: String(ports.lmtp),
      JOURNAL_SMTP_PORT: String(ports.journalSmtp ?? 0),
      WEB_PORT: String(ports.web),
      CODEC_SERVER_PORT: String(ports.codec),
      LMTP_METRICS_PORT: String(ports.lmtpMetrics ?? 0),
      WORKER_METRICS_PORT: String(ports.workerMetrics ?? 0),
      WEB_METRICS_PORT: String(ports.webMetrics ?? 0),
      TEMPORAL_SDK_METRICS_PORT: String(ports.sdkMetrics ?? 0),
      WORKFLOW_BUNDLE: path.join(o.dataDir, 'workflow-bundle.js'),
      PORTAL_PUBLIC_URL: process.env.PORTAL_PUBLIC_URL ?? `http://localhost:${ports.web}`,
      PORTAL_BUILD_DIR: o.portalBuildDir ?? path.join(repo, 'build', 'portal'),
    };
    if (!cfg.INGEST_CA_CERT_FILE) {
      // A dev ingest CA, so certificate credentials work out of the box (docs/ingest.md).
      const ca = await ensureDevIngestCa(path.join(o.dataDir, 'ingest-ca'));
      env.INGEST_CA_CERT_FILE = ca.certFile;
      env.INGEST_CA_KEY_FILE = ca.keyFile;
    }
    if (!cfg.LMTP_TLS_CERT_FILE) {
      const devCert = ensureDevLmtpCert(o.dataDir);
      if (devCert) {
        env.LMTP_TLS_CERT_FILE = devCert.cert;
        env.LMTP_TLS_KEY_FILE = devCert.key;
      } else log('!! openssl not found: LMTP runs without STARTTLS');
    }

    // "The TSA" as a backing service is both dev TSAs: an outage takes every timestamp away.
    const startTsa = () =>
      Promise.all([
        startApp(group, 'dev-tsa', env, () => httpOk(`http://127.0.0.1:${ports.tsa}/healthz`)),
        startApp(group, 'dev-tsa-2', { ...env, DEV_TSA_INSTANCE: '2' }, () =>
          httpOk(`http://127.0.0.1:${ports.tsa2}/healthz`),
        ),
      ]).then(() => undefined);
    const startService: Record<BackingService, () => Promise<void>> = {
      tsa: startTsa,
      postgres: async () => {
        if (!database?.embedded) throw new Error('only an embedded PostgreSQL can be restarted');
        await database.embedded.start();
      },
      temporal: () =>
        startTemporal(group, {
          bin: bins.temporal,
          port: ports.temporal,
          httpPort: ports.temporalHttp,
          metricsPort: ports.temporalMetrics,
          uiPort: ports.temporalUi,
          namespace: cfg.TEMPORAL_NAMESPACE,
          dbFile: o.persistTemporal ? path.join(o.dataDir, 'temporal', 'temporal.db') : undefined,
          codecEndpoint,
        }),
      minio: async () => {
        if (o.s3Endpoint) throw new Error('MinIO is external to this stack');
        await startMinio(group, {
          bin: bins.minio,
          dataDir: path.join(o.dataDir, 'minio'),
          port: ports.s3,
          consolePort: ports.s3Console,
          accessKey: cfg.S3_ACCESS_KEY,
          secretKey: cfg.S3_SECRET_KEY,
        });
      },
    };
    // Stopped (SIGTERM) or killed (-9): the same process, or the embedded PostgreSQL's postmaster.
    const processOf = { temporal: ['temporal'], minio: ['minio'], tsa: ['dev-tsa', 'dev-tsa-2'] };
    const halt =
      (how: 'stop' | 'kill') =>
      async (name: BackingService): Promise<void> => {
        if (name !== 'postgres') {
          await Promise.all(processOf[name].map((p) => group[how](p)));
          return;
        }
        if (!database?.embedded)
          throw new Error('only an embedded PostgreSQL can be stopped or killed');
        return database.embedded[how]();
      };
    const services = Object.fromEntries(
      (Object.keys(startService) as BackingService[]).map((name) => [
        name,
        {
          stop: () => halt('stop')(name),
          kill: () => halt('kill')(name),
          start: startService[name],
        },
      ]),
    ) as Stack['services'];

    const [db] = await Promise.all([
      resolveDatabase({
        explicitUrl: o.explicitDatabaseUrl,
        defaultUrl: cfg.DATABASE_URL,
        embeddedDir: path.join(o.dataDir, 'postgres'),
        embeddedPort: ports.embeddedPg,
        log,
        forceEmbedded: o.embeddedPostgres,
      }).then((d) => (database = d)),
      startService.temporal(),
      (o.s3Endpoint ? Promise.resolve() : startService.minio()).then(() => {
        const s3 = createS3({ ...cfg, S3_ENDPOINT: env.S3_ENDPOINT! });
        return ensureBucket(s3, cfg.S3_BUCKET).finally(() => s3.destroy());
      }),
      startTsa(),
      bundleWorkflows(env),
      ...(o.apps.includes('web') ? [buildPortal(env)] : []),
    ]);
    database = db;
    env.DATABASE_URL = db.url;
    env.MIGRATION_DATABASE_URL = db.ownerUrl;
    env.DATABASE_ADMIN_URL = db.adminUrl;

    const ready: Record<AppProcess, (child: ChildProcess) => Promise<boolean | undefined>> = {
      'codec-server': () => httpOk(`${codecEndpoint}/healthz`),
      // Ready when *this* child polls (identity pid@host), not a poller left from an earlier run.
      worker: async (child) => {
        const pollers = await recentWorkflowPollers({
          address: env.TEMPORAL_ADDRESS!,
          tls: false,
          namespace: cfg.TEMPORAL_NAMESPACE,
          taskQueue: cfg.TEMPORAL_TASK_QUEUE,
        });
        return pollers.some((p) => p.identity?.startsWith(`${child.pid}@`)) || undefined;
      },
      lmtp: async () =>
        (await isPortOpen(ports.lmtp)) &&
        (!ports.journalSmtp || (await isPortOpen(ports.journalSmtp)))
          ? true
          : undefined,
      web: () => httpOk(`http://127.0.0.1:${ports.web}/healthz`),
    };
    await Promise.all(o.apps.map((app) => startApp(group, app, env, ready[app])));

    const urls = [
      ...(ports.temporalUi
        ? [
            {
              name: 'Temporal Web UI',
              url: `http://localhost:${ports.temporalUi}/namespaces/${cfg.TEMPORAL_NAMESPACE}/workflows`,
            },
          ]
        : []),
      { name: 'Temporal gRPC', url: env.TEMPORAL_ADDRESS! },
      ...(o.apps.includes('web')
        ? [{ name: 'Portal', url: `http://localhost:${ports.web}/` }]
        : []),
      ...(o.apps.includes('lmtp')
        ? [{ name: 'LMTP ingest', url: `lmtp://127.0.0.1:${ports.lmtp}` }]
        : []),
      ...(o.apps.includes('lmtp') && ports.journalSmtp
        ? [
            {
              name: 'SMTP journaling',
              url: `smtp://127.0.0.1:${ports.journalSmtp} (addresses @${cfg.JOURNAL_DOMAIN})`,
            },
          ]
        : []),
      { name: 'S3 (MinIO)', url: env.S3_ENDPOINT! },
      { name: 'MinIO console', url: `http://localhost:${ports.s3Console}/` },
      { name: 'PostgreSQL', url: redactUrl(db.url) + (db.embedded ? ' (embedded)' : '') },
      ...tsaUrls({ TSA_URL: env.TSA_URL! }).map((url, i) => ({ name: `Dev TSA ${i + 1}`, url })),
      ...(codecEndpoint ? [{ name: 'Codec endpoint', url: codecEndpoint }] : []),
    ];
    return { env, urls, database: db, services, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startApp(
  group: ProcessGroup,
  app: AppProcess | DevTsa,
  env: NodeJS.ProcessEnv,
  ready: (child: ChildProcess) => Promise<boolean | undefined>,
): Promise<void> {
  const [cmd, args] = script(APP_SCRIPTS[app]);
  const child = group.start(app, cmd, args, env);
  await waitFor(app, () => ready(child), 90_000, child);
}

/** In a child process: webpack would otherwise block this event loop for seconds. */
function bundleWorkflows(env: NodeJS.ProcessEnv): Promise<void> {
  const [cmd, args] = script('workers/bundle-workflows.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`bundling workflow code failed (exit ${code})`)),
    );
  });
}

/** `react-router build` of web/app into PORTAL_BUILD_DIR (a few seconds; Vite, in a child). */
function buildPortal(env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(repo, 'node_modules', '.bin', 'react-router'), ['build'], {
      cwd: repo,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`building the portal failed (exit ${code}):\n${err.slice(-4000)}`)),
    );
  });
}

async function httpOk(url: string): Promise<true | undefined> {
  return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok ? true : undefined;
}

function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
