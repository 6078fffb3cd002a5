import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import type tls from 'node:tls';
import { temporalTls } from '../temporal/tls';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { distrustedTsaCerts, tsaRootsPem, tsaUrls, type Config } from '../config';
import { tsaLabel } from '../tsa/label';
import { migrations } from '../db/migrations';
import { createS3 } from '../storage/s3';
import { recentWorkflowPollers } from '../temporal/pollers';
import { requestTimestamp } from '../tsa/client';
import { probeLmtpStartTls, probeTls } from '../tls/probe';

/** One row of `mailrepo doctor`. */
export interface CheckResult {
  service: string;
  ok: boolean;
  version: string;
  /** The negotiated TLS version (`TLSv1.3`), `off`, `at proxy`, or `-` (not checked). */
  tls: string;
  detail: string;
}

type Check = (cfg: Config) => Promise<Omit<CheckResult, 'service' | 'ok'>>;

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, rej) =>
      setTimeout(() => rej(new Error(`no answer within ${ms / 1000}s`)), ms).unref(),
    ),
  ]);

const postgres: Check = async (cfg) => {
  const client = new pg.Client({
    connectionString: cfg.DATABASE_URL,
    connectionTimeoutMillis: 4000,
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string; ssl: string | null }>(
      `SELECT current_setting('server_version') AS v,
              (SELECT CASE WHEN ssl THEN version END FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl`,
    );
    const applied = await client
      .query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations')
      .then((r) => r.rows[0]!.n)
      .catch(() => 0);
    // Row-level security binds no superuser and no BYPASSRLS role (docs/deploy.md, roles).
    const role = (
      await client.query<{ name: string; unbound: boolean }>(
        `SELECT rolname AS name, rolsuper OR rolbypassrls AS unbound
           FROM pg_roles WHERE rolname = current_user`,
      )
    ).rows[0]!;
    if (role.unbound && cfg.NODE_ENV === 'production')
      throw new Error(
        `connects as ${role.name}, a role that bypasses row-level security (use mailrepo_service)`,
      );
    const total = Object.keys(migrations).length;
    if (applied < total)
      throw new Error(`schema behind: ${applied}/${total} migrations applied (npm run migrate)`);
    return {
      version: `PostgreSQL ${rows[0]!.v}`,
      tls: rows[0]!.ssl ?? 'off',
      detail: `${new URL(cfg.DATABASE_URL).host} as ${role.name}${
        role.unbound ? ' — BYPASSES row-level security (development only)' : ''
      }, schema up to date`,
    };
  } finally {
    await client.end();
  }
};

async function withTemporal<T>(cfg: Config, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await Connection.connect({
    address: cfg.TEMPORAL_ADDRESS,
    tls: temporalTls(cfg),
    connectTimeout: 4000,
  });
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/** host and port of `host:port` or a URL, with the scheme's default port. */
function endpoint(address: string): { host: string; port: number } {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 0);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

/** The TLS version a TLS endpoint negotiates, or `off`. */
async function tlsOf(on: boolean, address: string, extra: tls.ConnectionOptions = {}) {
  if (!on) return 'off';
  const { host, port } = endpoint(address);
  const p = await probeTls(host, port, extra);
  return p.verified ? p.protocol : `${p.protocol} (certificate not verified by the probe)`;
}

const file = (f: string | undefined) => (f ? readFileSync(f) : undefined);

const temporalTlsVersion = (cfg: Config) =>
  tlsOf(cfg.TEMPORAL_TLS, cfg.TEMPORAL_ADDRESS, {
    ca: file(cfg.TEMPORAL_TLS_CA_FILE),
    cert: file(cfg.TEMPORAL_TLS_CERT_FILE),
    key: file(cfg.TEMPORAL_TLS_KEY_FILE),
    servername: cfg.TEMPORAL_TLS_SERVER_NAME,
    ALPNProtocols: ['h2'],
  });

const temporal: Check = (cfg) =>
  withTemporal(cfg, async (conn) => {
    const info = await conn.workflowService.getSystemInfo({});
    await conn.workflowService.describeNamespace({ namespace: cfg.TEMPORAL_NAMESPACE });
    return {
      version: `Temporal ${info.serverVersion || '?'}`,
      tls: await temporalTlsVersion(cfg),
      detail: `${cfg.TEMPORAL_ADDRESS}, namespace ${cfg.TEMPORAL_NAMESPACE}`,
    };
  });

const worker: Check = async (cfg) => {
  const recent = await recentWorkflowPollers({
    address: cfg.TEMPORAL_ADDRESS,
    tls: temporalTls(cfg),
    namespace: cfg.TEMPORAL_NAMESPACE,
    taskQueue: cfg.TEMPORAL_TASK_QUEUE,
  });
  if (!recent.length) throw new Error(`no worker polls task queue ${cfg.TEMPORAL_TASK_QUEUE}`);
  const ids = new Set(recent.map((p) => p.identity ?? '?'));
  return {
    version: (recent[0]?.workerVersionCapabilities?.buildId || '-').split('+')[0]!,
    tls: '-',
    detail: `${ids.size} worker(s) on ${cfg.TEMPORAL_TASK_QUEUE}`,
  };
};

const objectStorage: Check = async (cfg) => {
  const s3 = createS3(cfg);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: cfg.S3_BUCKET }));
  } finally {
    s3.destroy();
  }
  const server = (
    await fetch(cfg.S3_ENDPOINT, { method: 'HEAD' }).catch(() => undefined)
  )?.headers.get('server');
  return {
    version: server ?? 'S3',
    tls: await tlsOf(cfg.S3_ENDPOINT.startsWith('https:'), cfg.S3_ENDPOINT),
    detail: `bucket ${cfg.S3_BUCKET} reachable`,
  };
};

/** One configured TSA (decision 0030): a token verified, and how long its certificate lasts. */
const tsaCheck =
  (url: string): Check =>
  async (cfg) => {
    const ts = await requestTimestamp(new TextEncoder().encode(`mailrepo doctor ${Date.now()}`), {
      url,
      caPem: tsaRootsPem(cfg),
      policy: cfg.TSA_POLICY_OID,
      username: cfg.TSA_USERNAME,
      password: cfg.TSA_PASSWORD,
      timeoutMs: 4000,
      attempts: 1,
    });
    const cert = new X509Certificate(ts.signerCertDer);
    const distrusted = distrustedTsaCerts(cfg).has(
      cert.fingerprint256.replace(/:/g, '').toLowerCase(),
    );
    return {
      version: `policy ${ts.policy}`,
      tls: await tlsOf(url.startsWith('https:'), url),
      detail:
        `${tsaLabel(url)}: token verified, genTime ${ts.genTime.toISOString()}, ` +
        `certificate valid until ${new Date(cert.validTo).toISOString().slice(0, 10)}` +
        (distrusted ? ' — DISTRUSTED (TSA_DISTRUSTED): its evidence is renewed elsewhere' : ''),
    };
  };

/** Reads the greeting and the LHLO capabilities; STARTTLS advertised means TLS is available. */
const lmtp: Check = (cfg) =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: cfg.LMTP_HOST, port: cfg.LMTP_PORT });
    let buf = '';
    let banner = '';
    socket.setTimeout(4000, () => socket.destroy(new Error('LMTP server did not answer')));
    socket.on('error', reject);
    socket.on('data', (d) => {
      buf += d.toString();
      if (!banner && buf.includes('\r\n')) {
        banner = buf.split('\r\n')[0]!;
        if (!banner.startsWith('220'))
          return socket.destroy(new Error(`unexpected greeting: ${banner}`));
        buf = '';
        socket.write('LHLO doctor.mailrepo\r\n');
      } else if (banner && /^250 /m.test(buf)) {
        socket.removeAllListeners('data');
        socket.removeAllListeners('error');
        socket.on('error', () => {}); // a late reset after QUIT changes nothing
        socket.end('QUIT\r\n');
        const version = banner.replace(/^220[ -]/, '').slice(0, 40);
        // Says plainly when anyone who reaches the port may deliver (development only).
        const detail = `${cfg.LMTP_HOST}:${cfg.LMTP_PORT}${
          cfg.INGEST_CA_CERT_FILE ? ', client certificates from the ingest CA' : ''
        }${cfg.LMTP_ALLOW_UNAUTHENTICATED ? ' — UNAUTHENTICATED delivery allowed (development)' : ''}`;
        if (!/STARTTLS/i.test(buf)) return resolve({ version, tls: 'off', detail });
        probeLmtpStartTls(cfg.LMTP_HOST, cfg.LMTP_PORT).then(
          (p) => resolve({ version, tls: p.protocol, detail }),
          reject,
        );
      }
    });
  });

const portal: Check = async (cfg) => {
  const tls = !!(cfg.WEB_TLS_CERT_FILE && cfg.WEB_TLS_KEY_FILE);
  const host = cfg.WEB_HOST === '0.0.0.0' ? '127.0.0.1' : cfg.WEB_HOST;
  const res = await fetch(`${tls ? 'https' : 'http'}://${host}:${cfg.WEB_PORT}/healthz`);
  if (!res.ok) throw new Error(`healthz answered HTTP ${res.status}`);
  const body = (await res.json()) as { version?: string };
  return {
    version: `mailrepo ${body.version ?? '?'}`,
    tls: tls
      ? (await probeTls(host, cfg.WEB_PORT)).protocol
      : cfg.WEB_BEHIND_TLS_PROXY
        ? 'at proxy'
        : 'off',
    detail: `port ${cfg.WEB_PORT}${cfg.WEB_BEHIND_TLS_PROXY ? ' (TLS at proxy)' : ''}`,
  };
};

const codecEndpoint: Check = async (cfg) => {
  const res = await fetch(`http://127.0.0.1:${cfg.CODEC_SERVER_PORT}/healthz`);
  if (!res.ok) throw new Error(`healthz answered HTTP ${res.status}`);
  return { version: '-', tls: 'off', detail: `loopback port ${cfg.CODEC_SERVER_PORT}` };
};

export function checksFor(cfg: Config): [string, Check][] {
  return [
    ['PostgreSQL', postgres],
    ['Temporal', temporal],
    ['Temporal worker', worker],
    ['Object storage (S3)', objectStorage],
    ...tsaUrls(cfg).map((url, i): [string, Check] => [`TSA ${i + 1}`, tsaCheck(url)]),
    ['LMTP ingest', lmtp],
    ['Portal', portal],
    ...(cfg.CODEC_SERVER_ENABLED ? ([['Codec endpoint', codecEndpoint]] as [string, Check][]) : []),
  ];
}

export async function runChecks(cfg: Config, timeoutMs = 8000): Promise<CheckResult[]> {
  return Promise.all(
    checksFor(cfg).map(async ([service, check]) => {
      try {
        return { service, ok: true, ...(await withTimeout(check(cfg), timeoutMs)) };
      } catch (e) {
        return {
          service,
          ok: false,
          version: '-',
          tls: '-' as const,
          detail: e instanceof Error ? e.message.split('\n')[0]! : String(e),
        };
      }
    }),
  );
}
