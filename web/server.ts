import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { startMetricsServer } from '../lib/metrics/server';
import { SERVER_TLS } from '../lib/tls/policy';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequestHandler } from '@react-router/express';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import { RouterContextProvider, type ServerBuild } from 'react-router';
import type { PortalContext } from './app/context';
import { config, repoRoot, tsaRootsPem } from '../lib/config';
import { createArchive } from '../application/archive';
import { createExports } from '../application/exports';
import { createImports } from '../application/imports';
import { TenantIndexes } from '../lib/search/tenant-index';
import { createS3 } from '../lib/storage/s3';
import { connectTemporal } from '../lib/temporal/client';
import type { Client } from '@temporalio/client';
import { relyingParty } from '../lib/auth/passkeys';
import { dbFromConfig } from '../lib/db';
import { createLogger } from '../lib/log';
import { closeOnSignals } from '../lib/process/close-on-signals';
import { version } from '../lib/version';
import { bodyLimit } from './body-limit';
import { createPortalServices } from '../application/portal';
import { loadIngestCa, type IngestCa } from '../lib/ingest/ingest-ca';

/**
 * The portal's HTTP server: the React Router app (web/app, built by `react-router build`) on
 * Express, behind security headers (CSP with a nonce per response, HSTS, no framing) and a
 * same-origin check for every state-changing request. /healthz is what `mailrepo doctor` and
 * load balancers check.
 */
const cfg = config();
const log = createLogger('web', { level: cfg.LOG_LEVEL });
const db = dbFromConfig(cfg, 10);
const tsaCaPem = () => tsaRootsPem(cfg);
const s3 = createS3(cfg);
// Temporal is reached lazily: the portal serves sign-in and reading while Temporal is down.
let temporal: Promise<Client> | undefined;
const temporalClient = () =>
  (temporal ??= connectTemporal(cfg).catch((e: unknown) => {
    temporal = undefined;
    throw e;
  }));
const temporalJobs = async () => ({
  client: await temporalClient(),
  taskQueue: cfg.TEMPORAL_TASK_QUEUE,
  namespace: cfg.TEMPORAL_NAMESPACE,
  uiUrl: cfg.TEMPORAL_UI_URL ?? `http://127.0.0.1:${cfg.TEMPORAL_UI_PORT}`,
});
const services = createPortalServices(
  db,
  relyingParty(cfg.PORTAL_PUBLIC_URL),
  cfg.PORTAL_PUBLIC_URL,
  createArchive({
    db,
    s3,
    bucket: cfg.S3_BUCKET,
    tsaCaPem,
    indexes: new TenantIndexes({
      budgetBytes: cfg.SEARCH_CACHE_MB * 1024 * 1024,
      concurrency: cfg.SEARCH_CONCURRENCY,
    }),
    temporal: temporalJobs,
    log,
  }),
  createExports({ db, s3, bucket: cfg.S3_BUCKET, temporal: temporalJobs }),
  createImports({ db, s3, bucket: cfg.S3_BUCKET, temporal: temporalJobs }),
  tsaCaPem,
  temporalJobs,
  {
    // Loaded when first needed: a portal without an ingest CA still serves everything else.
    load:
      cfg.INGEST_CA_CERT_FILE && cfg.INGEST_CA_KEY_FILE
        ? (() => {
            let ca: Promise<IngestCa> | undefined;
            const [certFile, keyFile] = [cfg.INGEST_CA_CERT_FILE, cfg.INGEST_CA_KEY_FILE];
            // A failed load (a file fixed meanwhile) is tried again on the next request.
            return () =>
              (ca ??= loadIngestCa(certFile, keyFile).catch((e: unknown) => {
                ca = undefined;
                throw e;
              }));
          })()
        : undefined,
    validDays: cfg.INGEST_CERT_VALID_DAYS,
    journalDomain: cfg.JOURNAL_DOMAIN,
  },
  // Client secrets of the tenants' OpenID providers are wrapped under the vault wrap key.
  {
    wrapKey: Buffer.from(cfg.VAULT_KEY_WRAP_KEY, 'base64'),
    allowHttp: cfg.NODE_ENV !== 'production',
  },
);
const tls = !!(cfg.WEB_TLS_CERT_FILE && cfg.WEB_TLS_KEY_FILE);
const secure = tls || cfg.WEB_BEHIND_TLS_PROXY;
const buildDir = path.resolve(repoRoot, cfg.PORTAL_BUILD_DIR);

const app = express();
app.disable('x-powered-by');
if (cfg.WEB_BEHIND_TLS_PROXY) app.set('trust proxy', 1);

app.use((_req, res, next) => {
  res.locals.nonce = randomBytes(16).toString('base64');
  next();
});
app.use(
  helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: [(_req, res) => `'nonce-${(res as Response).locals.nonce}'`, "'strict-dynamic'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        // The single sign-on form's answer redirects to the tenant's OpenID provider (issue 21 §5).
        formAction: [
          (req) =>
            (req as Request).path === '/login/sso'
              ? `'self' https:${cfg.NODE_ENV === 'production' ? '' : ' http:'}`
              : "'self'",
        ],
        frameAncestors: ["'none'"],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    // same-origin, not no-referrer: with no-referrer Chromium sends `Origin: null` on form posts.
    referrerPolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
  }),
);

/**
 * Cross-origin form posts are refused (SameSite=Lax cookies are the second line): the Origin
 * header must be ours, or — where a browser sends none or "null" — Sec-Fetch-Site must say
 * same-origin. A request with neither (curl, scripts) is not a browser's cross-site post.
 */
function sameOrigin(req: Request, res: Response, next: NextFunction) {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  const origin = req.get('origin');
  const site = req.get('sec-fetch-site');
  const expected = `${req.protocol}://${req.get('host')}`;
  const badOrigin = origin !== undefined && origin !== 'null' && origin !== expected;
  const badSite = site !== undefined && site !== 'same-origin' && site !== 'none';
  const anonymous = origin === 'null' && site === undefined;
  if (badOrigin || badSite || anonymous)
    return void res.status(403).type('text').send('cross-origin request refused');
  next();
}
app.use(sameOrigin);
app.use(
  bodyLimit({
    forms: cfg.WEB_MAX_FORM_BYTES,
    uploads: [
      { path: '/imports', limit: 20 * 1024 ** 3 },
      { path: '/verify', limit: cfg.WEB_MAX_VERIFY_BYTES },
    ],
  }),
);

// A mail's HTML document (shown in a sandboxed frame) carries its own, stricter CSP, set by its
// route; the portal's policy (no framing at all) must not be appended to it.
// Exactly that route: `app.use` would also match every path below it (issue 17 §4).
app.use((req, res, next) => {
  if (/^\/mail\/[^/]+\/body$/.test(req.path)) res.removeHeader('Content-Security-Policy');
  next();
});

app.get(
  '/healthz',
  (_req, res) => void res.json({ status: 'ok', service: 'mailrepo-web', version }),
);
app.get('/favicon.ico', (_req, res) => void res.status(204).end());
app.use(
  '/assets',
  express.static(path.join(buildDir, 'client', 'assets'), { immutable: true, maxAge: '1y' }),
);
app.use(express.static(path.join(buildDir, 'client'), { maxAge: '1h', index: false }));

let build: Promise<ServerBuild> | undefined;
app.all(
  '/{*path}',
  createRequestHandler({
    build: () =>
      (build ??= import(
        pathToFileURL(path.join(buildDir, 'server', 'index.mjs')).href
      ) as Promise<ServerBuild>),
    // React Router 8 hands this one object to every loader and action of the request.
    getLoadContext: (req, res): PortalContext =>
      Object.assign(new RouterContextProvider(), {
        services,
        ip: req.ip ?? req.socket.remoteAddress ?? 'unknown',
        userAgent: req.get('user-agent'),
        nonce: res.locals.nonce as string,
        secureCookies: secure,
        logFault: (errorId: string, err: unknown, path: string) =>
          log.error({ errorId, err, path }, 'request failed'),
      }),
  }),
);
app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
  log.error({ err }, 'request failed');
  res.status(500).type('text').send('internal error');
});

const server = tls
  ? https.createServer(
      {
        cert: readFileSync(cfg.WEB_TLS_CERT_FILE!),
        key: readFileSync(cfg.WEB_TLS_KEY_FILE!),
        ...SERVER_TLS,
      },
      app,
    )
  : app;
// Prometheus scrapes the portal on a port of its own, never through the public one.
if (cfg.WEB_METRICS_PORT)
  startMetricsServer(cfg.METRICS_HOST, cfg.WEB_METRICS_PORT).catch((err: unknown) =>
    log.error({ err }, 'metrics endpoint could not start'),
  );
const listener = server.listen(cfg.WEB_PORT, cfg.WEB_HOST, () =>
  log.info({ port: cfg.WEB_PORT, tls }, 'portal listening'),
);
closeOnSignals(listener);
