import { availableParallelism, hostname } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { unsupportedNode } from '../process/node-runtime';
import { findRepoRoot } from './repo-root';

/**
 * The one place that reads environment variables. Every variable is documented in .env.example.
 * Dev defaults make `npm run dev` work out of the box; in production each of them is refused, so a
 * deployment can never silently run on the dev TSA, dev keys or without TLS.
 */

export const repoRoot = findRepoRoot(__dirname);

// A fixed, publicly known key: it keeps dev Temporal history unreadable to casual tools, nothing more.
const DEV_CODEC_KEY = 'dev:bWFpbHJlcG8tZGV2LWNvZGVjLWtleS0zMi1ieXRlcyE=';
// Same idea for the key that wraps ledger signing keys at rest.
const DEV_LEDGER_WRAP_KEY = 'bWFpbHJlcG8tZGV2LWxlZGdlci13cmFwLWtleS0zMiE=';
// And for the key that wraps the shred keys in the shred-key vault.
export const DEV_VAULT_WRAP_KEY = 'bWFpbHJlcG8tZGV2LXZhdWx0LXdyYXAta2V5LTMyISE=';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const port = z.coerce.number().int().min(0).max(65535);

interface Var<T extends z.ZodTypeAny> {
  schema: T;
  dev?: string;
  /** A dev default that must never be in force in production. */
  devOnly?: boolean;
}
const v = <T extends z.ZodTypeAny>(schema: T, dev?: string, devOnly = false): Var<T> => ({
  schema,
  dev,
  devOnly,
});

const spec = {
  NODE_ENV: v(z.enum(['development', 'test', 'production']), 'development'),
  LOG_LEVEL: v(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']), 'info'),
  DATA_DIR: v(z.string(), path.join(repoRoot, '.data'), true),

  DATABASE_URL: v(z.string().url(), 'postgres://postgres@127.0.0.1:5432/mailrepo', true),
  /**
   * The schema owner's connection, for `npm run migrate` only (docs/deploy.md "Database roles");
   * the processes connect as DATABASE_URL's role, which owns nothing. Default: DATABASE_URL.
   */
  MIGRATION_DATABASE_URL: v(z.string().url().optional()),
  DATABASE_POOL_MAX: v(z.coerce.number().int().positive(), '10'),
  /**
   * The shred-key vault (docs/retention.md): a database of its own, backed up apart from the
   * archive database and never longer than the shortest retention. Default: DATABASE_URL's server,
   * database name + `_vault`.
   */
  VAULT_DATABASE_URL: v(z.string().url().optional()),
  /** base64 of 32 bytes: wraps every shred key in the vault (an HSM/KMS secret in production). */
  VAULT_KEY_WRAP_KEY: v(
    z.string().refine((s) => Buffer.from(s, 'base64').length === 32, 'must be base64 of 32 bytes'),
    DEV_VAULT_WRAP_KEY,
    true,
  ),

  TEMPORAL_ADDRESS: v(z.string(), '127.0.0.1:7233', true),
  TEMPORAL_NAMESPACE: v(z.string().min(1), 'mailrepo'),
  TEMPORAL_TASK_QUEUE: v(z.string().min(1), 'mailrepo'),
  /**
   * The worker's workflow bundle. Compiled (`npm run build`): default the build's own, and one from
   * another build is refused. From sources: default none, the worker bundles at start.
   */
  WORKFLOW_BUNDLE: v(z.string().optional()),
  TEMPORAL_TLS: v(bool, 'false', true),
  /** mTLS to Temporal (self-hosted with client certificates, or Temporal Cloud): PEM files. */
  TEMPORAL_TLS_CERT_FILE: v(z.string().optional()),
  TEMPORAL_TLS_KEY_FILE: v(z.string().optional()),
  /** The CA that signed the Temporal frontend's certificate (unset: the system's roots). */
  TEMPORAL_TLS_CA_FILE: v(z.string().optional()),
  /** The name in the frontend's certificate, when it differs from TEMPORAL_ADDRESS's host. */
  TEMPORAL_TLS_SERVER_NAME: v(z.string().optional()),
  TEMPORAL_UI_PORT: v(port, '8233'),
  /** Where operators open the Temporal UI (the jobs page links there); dev: the local UI port. */
  TEMPORAL_UI_URL: v(z.string().url().optional()),
  /** Comma-separated `keyId:base64(32 bytes)`; the first key encrypts, all of them decrypt. */
  TEMPORAL_CODEC_KEYS: v(z.string().min(1), DEV_CODEC_KEY, true),
  CODEC_SERVER_ENABLED: v(bool, 'true'),
  CODEC_SERVER_PORT: v(port, '8234'),
  /**
   * A bearer token the codec endpoint requires (`Authorization: Bearer …`; the Temporal UI sends
   * its user's access token when told to). Required in production whenever the endpoint is on.
   */
  CODEC_SERVER_TOKEN: v(z.string().min(32).optional()),
  /** Origin of the Temporal UI allowed to call the codec endpoint (CORS). */
  CODEC_SERVER_CORS_ORIGIN: v(z.string(), 'http://localhost:8233'),

  S3_ENDPOINT: v(z.string().url(), 'http://127.0.0.1:9000', true),
  S3_REGION: v(z.string(), 'us-east-1'),
  S3_ACCESS_KEY: v(z.string().min(3), 'mailrepo-dev', true),
  S3_SECRET_KEY: v(z.string().min(8), 'mailrepo-dev-secret', true),
  S3_BUCKET: v(z.string().min(3), 'mailrepo'),
  MINIO_CONSOLE_PORT: v(port, '9001'),

  /**
   * base64 of 32 bytes: wraps the Ed25519 keys that sign log checkpoints. Checkpoints are signed by
   * a scheduled workflow with no user present, so this key is a server secret (an HSM/KMS in
   * production), unlike the tenant keys.
   */
  LEDGER_KEY_WRAP_KEY: v(
    z.string().refine((s) => Buffer.from(s, 'base64').length === 32, 'must be base64 of 32 bytes'),
    DEV_LEDGER_WRAP_KEY,
    true,
  ),
  /** Seconds between runs of the ledgerCheckpoint schedule (it does nothing when nothing is new). */
  LEDGER_CHECKPOINT_INTERVAL_S: v(z.coerce.number().int().min(1).max(3600), '10'),
  LEDGER_SCHEDULE_OWNER: v(bool, 'true'),
  /** Read rate of the integrity check (bytes/s), so it never crowds out ingest and reading. */
  INTEGRITY_READ_BYTES_PER_S: v(z.coerce.number().int().min(1024), String(50 * 1024 * 1024)),
  /** Daily time of the scheduled integrity check, Europe/Berlin (HH:MM). */
  INTEGRITY_CHECK_AT: v(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/), '03:30'),
  /** Daily time of the retention sweep (shredding expired epochs), Europe/Berlin (HH:MM). */
  RETENTION_SWEEP_AT: v(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/), '02:30'),
  /** How often expired portal sessions are ended and their sealed keys destroyed. */
  SESSION_SWEEP_INTERVAL_S: v(z.coerce.number().int().min(10).max(3600), '300'),
  /** Prefix of log origins in checkpoints, e.g. `archive.example.de/mailrepo`. */
  LEDGER_ORIGIN: v(
    z.string().regex(/^[a-z0-9.-]+(\/[a-z0-9._-]+)*$/),
    'dev.mailrepo.invalid/mailrepo',
  ),
  /**
   * The TSAs, comma-separated: each anchor checkpoint is timestamped by every one of them
   * (decision 0030). The dev stack runs two dev TSAs with different roots.
   */
  TSA_URL: v(
    z
      .string()
      .refine(
        (s) => list(s).length > 0 && list(s).every((u) => z.string().url().safeParse(u).success),
        'a comma-separated list of URLs',
      ),
    'http://127.0.0.1:3180/tsa,http://127.0.0.1:3181/tsa',
    true,
  ),
  /** PEM bundle(s) of the TSAs' root CAs, comma-separated; the dev TSAs write theirs under DATA_DIR. */
  TSA_CA_FILE: v(z.string().optional()),
  /**
   * SHA-256 fingerprints (hex) of TSA certificates — signing or root — no longer trusted: evidence
   * resting on them is renewed by another TSA at the next renewal run.
   */
  TSA_DISTRUSTED: v(
    z
      .string()
      .refine((s) => list(s).every((f) => /^[0-9a-f]{64}$/i.test(f.replace(/:/g, ''))))
      .optional(),
  ),
  /** Evidence is renewed this many days before its last TSA certificate expires. */
  EVIDENCE_RENEWAL_DAYS: v(z.coerce.number().int().min(1).max(3650), '365'),
  /** Daily time of the evidence renewal run, Europe/Berlin (HH:MM). */
  EVIDENCE_RENEWAL_AT: v(z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/), '03:30'),
  TSA_POLICY_OID: v(
    z
      .string()
      .regex(/^\d+(\.\d+)+$/)
      .optional(),
  ),
  TSA_USERNAME: v(z.string().optional()),
  TSA_PASSWORD: v(z.string().optional()),
  TSA_TIMEOUT_MS: v(z.coerce.number().int().positive(), '10000'),
  DEV_TSA_PORT: v(port, '3180'),
  /** The second dev TSA (its own root): development and tests run two. */
  DEV_TSA_2_PORT: v(port, '3181'),

  LMTP_HOST: v(z.string(), '127.0.0.1'),
  LMTP_PORT: v(port, '2424'),
  LMTP_TLS_CERT_FILE: v(z.string().optional()),
  LMTP_TLS_KEY_FILE: v(z.string().optional()),
  LMTP_REQUIRE_TLS: v(bool, 'false'),
  LMTP_MAX_MESSAGE_BYTES: v(z.coerce.number().int().positive(), String(50 * 1024 * 1024)),
  LMTP_MAX_CONNECTIONS: v(z.coerce.number().int().positive(), '100'),
  LMTP_MAX_CONCURRENT_MAILS: v(z.coerce.number().int().positive(), '32'),
  LMTP_MAX_RECIPIENTS: v(z.coerce.number().int().positive(), '100'),
  LMTP_MAX_CONNECTIONS_PER_IP: v(z.coerce.number().int().positive(), '20'),
  /**
   * Development only: LMTP sessions without an ingest credential may deliver to any tenant.
   * Production turns it off and refuses to start with it on (issue 17 §1).
   */
  LMTP_ALLOW_UNAUTHENTICATED: v(bool, 'true'),
  /**
   * The deployment's ingest CA (docs/ingest.md): it issues the client certificates tenants' mail
   * servers present on LMTP. LMTP needs the certificate only; the portal and the CLI, which issue,
   * also the key. Unset: certificate credentials are unavailable (SASL still works).
   */
  INGEST_CA_CERT_FILE: v(z.string().optional()),
  INGEST_CA_KEY_FILE: v(z.string().optional()),
  INGEST_CERT_VALID_DAYS: v(z.coerce.number().int().min(1).max(825), '365'),
  LMTP_SHUTDOWN_GRACE_MS: v(z.coerce.number().int().positive(), '30000'),
  /**
   * SMTP journaling from Microsoft 365, Google Workspace or any MTA's BCC (issue 22 §1,
   * docs/ingest.md), run by the LMTP process with the same size and connection limits and TLS
   * certificate. 0 turns it off. Mail is accepted only for live journal addresses on
   * JOURNAL_DOMAIN (an MX record of the deployment's).
   */
  JOURNAL_SMTP_HOST: v(z.string(), '127.0.0.1'),
  JOURNAL_SMTP_PORT: v(port, '2525'),
  JOURNAL_SMTP_REQUIRE_TLS: v(bool, 'false'),
  JOURNAL_DOMAIN: v(
    z
      .string()
      .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i)
      .transform((d) => d.toLowerCase()),
    'journal.mailrepo.localhost',
  ),
  /** Our host name in sender authentication results (SPF/DKIM/ARC/DMARC). */
  JOURNAL_SMTP_HOSTNAME: v(z.string().min(1), hostname()),
  /** Longest wait for sender authentication's DNS answers; then the results say temperror. */
  SENDER_AUTH_TIMEOUT_MS: v(z.coerce.number().int().min(100).max(120_000), '15000'),
  /**
   * Least time between two archive batch starts of one tenant (decision 0020): a busy tenant's
   * mails wait up to this long for their batch, and the archive pays one workflow for all of them.
   * 0 starts whenever no start is under way (lowest latency, most workflows).
   */
  INGEST_BATCH_WINDOW_MS: v(z.coerce.number().int().min(0).max(1000), '50'),

  /**
   * Memory for decrypted search index blocks in the portal, shared by all sessions and tenants
   * (decision 0021); least recently used blocks are dropped beyond it.
   */
  SEARCH_CACHE_MB: v(z.coerce.number().int().min(16).max(65536), '512'),
  SEARCH_CONCURRENCY: v(z.coerce.number().int().min(1).max(256), '8'),
  /**
   * Threads the worker's index merge decrypts and builds segments on (0: on its own thread).
   * Default: one per core, at most four.
   */
  SEARCH_MERGE_THREADS: v(
    z.coerce.number().int().min(0).max(64),
    String(Math.min(4, availableParallelism())),
  ),
  /**
   * Attachments (PDF, Office…) the worker's index job reads at once, each on a thread of its own
   * with a 512 MiB heap (decision 0022). Default: one per core, at most four.
   */
  EXTRACT_THREADS: v(
    z.coerce.number().int().min(1).max(32),
    String(Math.min(4, availableParallelism())),
  ),

  WEB_HOST: v(z.string(), '127.0.0.1'),
  WEB_PORT: v(port, '3000'),
  WEB_TLS_CERT_FILE: v(z.string().optional()),
  WEB_TLS_KEY_FILE: v(z.string().optional()),
  /** Set when a TLS-terminating proxy sits in front of the portal. */
  WEB_BEHIND_TLS_PROXY: v(bool, 'false'),
  /**
   * Request bodies are counted as they arrive: sign-in and every other form or JSON post at most
   * WEB_MAX_FORM_BYTES, a proof-bundle check (/verify: the mail and its bundle) at most
   * WEB_MAX_VERIFY_BYTES; imports stream up to 20 GiB into storage.
   */
  WEB_MAX_FORM_BYTES: v(z.coerce.number().int().positive(), String(64 * 1024)),
  WEB_MAX_VERIFY_BYTES: v(z.coerce.number().int().positive(), String(100 * 1024 * 1024)),
  /** The portal's built React Router app (`react-router build`; the stack builds it on start). */
  PORTAL_BUILD_DIR: v(z.string(), 'build/portal'),
  /**
   * Prometheus endpoints (`GET /metrics`), one port per process; 0 turns one off. On loopback by
   * default: expose them to Prometheus only (docs/deploy.md).
   */
  METRICS_HOST: v(z.string(), '127.0.0.1'),
  LMTP_METRICS_PORT: v(port, '9464'),
  WORKER_METRICS_PORT: v(port, '9465'),
  WEB_METRICS_PORT: v(port, '9466'),
  /** The Temporal SDK's own metrics (task latencies, slots, polls) from the worker. */
  TEMPORAL_SDK_METRICS_PORT: v(port, '9467'),
  /** The portal's address as users reach it (invitation links). */
  PORTAL_PUBLIC_URL: v(z.string().url(), 'http://localhost:3000'),
} as const;

type Spec = typeof spec;

/** Every variable this module reads (tests check that .env.example documents each). */
export const configVariables = Object.keys(spec) as (keyof Spec)[];
export type Config = { [K in keyof Spec]: z.output<Spec[K]['schema']> } & {
  /** Names of dev-only defaults in force (always empty in production). */
  devDefaultsInForce: string[];
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Every process loads its configuration first: the one place to refuse a wrong runtime.
  const runtime = unsupportedNode();
  if (runtime) throw new ConfigError(runtime);
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  const devDefaultsInForce: string[] = [];
  for (const [name, def] of Object.entries(spec) as [string, Var<z.ZodTypeAny>][]) {
    const raw = env[name] === '' ? undefined : env[name];
    if (raw === undefined && def.devOnly && def.dev !== undefined) devDefaultsInForce.push(name);
    const parsed = def.schema.safeParse(raw ?? def.dev);
    if (parsed.success) out[name] = parsed.data;
    else problems.push(`${name}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  }
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  const cfg = out as Config;
  cfg.devDefaultsInForce = devDefaultsInForce;
  if (cfg.NODE_ENV === 'production') {
    // The codec endpoint decrypts Temporal payloads for the UI: in production only when asked for.
    if (env.CODEC_SERVER_ENABLED === undefined)
      (cfg as { CODEC_SERVER_ENABLED: boolean }).CODEC_SERVER_ENABLED = false;
    // Only a tenant's authenticated servers deliver into it.
    if (env.LMTP_ALLOW_UNAUTHENTICATED === undefined)
      (cfg as { LMTP_ALLOW_UNAUTHENTICATED: boolean }).LMTP_ALLOW_UNAUTHENTICATED = false;
    assertProductionReady(cfg, env);
  }
  return cfg;
}

function assertProductionReady(cfg: Config, env: NodeJS.ProcessEnv): void {
  const refusals = cfg.devDefaultsInForce.map((n) => `${n} is unset and would use its dev default`);
  if (env.LEDGER_KEY_WRAP_KEY === DEV_LEDGER_WRAP_KEY)
    refusals.push('LEDGER_KEY_WRAP_KEY is the dev key');
  if (env.VAULT_KEY_WRAP_KEY === DEV_VAULT_WRAP_KEY)
    refusals.push('VAULT_KEY_WRAP_KEY is the dev key');
  if (env.TEMPORAL_CODEC_KEYS?.includes(DEV_CODEC_KEY))
    refusals.push('TEMPORAL_CODEC_KEYS holds the dev key');
  if (cfg.LMTP_ALLOW_UNAUTHENTICATED)
    refusals.push('LMTP_ALLOW_UNAUTHENTICATED must be false: only authenticated servers deliver');
  if (cfg.CODEC_SERVER_ENABLED && !cfg.CODEC_SERVER_TOKEN)
    refusals.push('CODEC_SERVER_ENABLED needs CODEC_SERVER_TOKEN (the endpoint decrypts payloads)');
  const devTsa = [cfg.DEV_TSA_PORT, cfg.DEV_TSA_2_PORT].map((p) => `http://127.0.0.1:${p}/`);
  if (tsaUrls(cfg).some((u) => devTsa.some((d) => u.startsWith(d))) || !cfg.TSA_CA_FILE)
    refusals.push(
      'TSA_URL/TSA_CA_FILE must name a real TSA and its CA (the dev TSA is not allowed)',
    );
  if (!cfg.TEMPORAL_TLS) refusals.push('TEMPORAL_TLS must be true');
  if (!cfg.TEMPORAL_TLS_CERT_FILE || !cfg.TEMPORAL_TLS_KEY_FILE)
    refusals.push('TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE are required (mTLS)');
  // verify-full: encrypted, and the server's certificate checked against its host name.
  for (const name of ['DATABASE_URL', 'VAULT_DATABASE_URL', 'MIGRATION_DATABASE_URL'] as const) {
    const url = cfg[name];
    if (url !== undefined && !/[?&]sslmode=verify-full(&|$)/.test(url))
      refusals.push(`${name} must set sslmode=verify-full`);
  }
  if (!cfg.S3_ENDPOINT.startsWith('https://')) refusals.push('S3_ENDPOINT must use https');
  if (!cfg.LMTP_TLS_CERT_FILE || !cfg.LMTP_TLS_KEY_FILE)
    refusals.push('LMTP_TLS_CERT_FILE and LMTP_TLS_KEY_FILE are required');
  if (!cfg.LMTP_REQUIRE_TLS) refusals.push('LMTP_REQUIRE_TLS must be true');
  if (cfg.JOURNAL_SMTP_PORT && !cfg.JOURNAL_SMTP_REQUIRE_TLS)
    refusals.push('JOURNAL_SMTP_REQUIRE_TLS must be true (or JOURNAL_SMTP_PORT=0)');
  if (cfg.JOURNAL_SMTP_PORT && !env.JOURNAL_DOMAIN)
    refusals.push('JOURNAL_DOMAIN must name the journal domain (or JOURNAL_SMTP_PORT=0)');
  if (!cfg.WEB_BEHIND_TLS_PROXY && !(cfg.WEB_TLS_CERT_FILE && cfg.WEB_TLS_KEY_FILE))
    refusals.push(
      'the portal needs WEB_TLS_CERT_FILE/WEB_TLS_KEY_FILE or WEB_BEHIND_TLS_PROXY=true',
    );
  if (refusals.length)
    throw new ConfigError(
      `Refusing to start with NODE_ENV=production:\n  ${refusals.join('\n  ')}`,
    );
}

/** Loads `.env` from the repository root once, without overriding variables already set. */
export function loadDotEnv(file = path.join(repoRoot, '.env')): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

let cached: Config | undefined;
export function config(): Config {
  if (!cached) {
    loadDotEnv();
    cached = loadConfig();
  }
  return cached;
}

/** Items of a comma-separated variable. */
function list(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
}

/** The configured TSAs, in order. */
export const tsaUrls = (cfg: Pick<Config, 'TSA_URL'>): string[] => list(cfg.TSA_URL);

/** The dev LMTP certificate `npm run dev` makes when LMTP_TLS_CERT_FILE is unset (infra/dev-tls). */
export const devLmtpCertFiles = (dataDir: string) => ({
  cert: path.join(dataDir, 'lmtp', 'dev-cert.pem'),
  key: path.join(dataDir, 'lmtp', 'dev-key.pem'),
});

/** The listener certificate clients check LMTP and journaling against, if there is one. */
export function lmtpCertFile(cfg: Config): string | undefined {
  if (cfg.LMTP_TLS_CERT_FILE) return cfg.LMTP_TLS_CERT_FILE;
  const dev = devLmtpCertFiles(cfg.DATA_DIR).cert;
  return cfg.NODE_ENV !== 'production' && existsSync(dev) ? dev : undefined;
}

/** Where a dev TSA keeps its PKI: DATA_DIR/tsa for the first, DATA_DIR/tsa-2 for the second. */
export const devTsaDir = (dataDir: string, n: 1 | 2) =>
  path.join(dataDir, n === 1 ? 'tsa' : 'tsa-2');

/** The TSA root files; in development without TSA_CA_FILE, the dev TSAs' own. */
export function tsaCaFiles(cfg: Config): string[] {
  if (cfg.TSA_CA_FILE) return list(cfg.TSA_CA_FILE);
  return ([1, 2] as const)
    .map((n) => path.join(devTsaDir(cfg.DATA_DIR, n), 'ca.pem'))
    .filter((f, i) => i === 0 || existsSync(f));
}

/** The first TSA's root file (openssl checks in tests and docs). */
export const tsaCaFile = (cfg: Config): string => tsaCaFiles(cfg)[0]!;

/** Every TSA root, one PEM bundle: tokens of any configured TSA verify against it. */
export function tsaRootsPem(cfg: Config): string {
  return tsaCaFiles(cfg)
    .map((f) => readFileSync(f, 'utf8'))
    .join('');
}

/** The distrusted TSA certificates' SHA-256 fingerprints, lower-case hex without colons. */
export const distrustedTsaCerts = (cfg: Config): Set<string> =>
  new Set(list(cfg.TSA_DISTRUSTED ?? '').map((f) => f.replace(/:/g, '').toLowerCase()));
