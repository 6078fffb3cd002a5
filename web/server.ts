import { readFileSync } from 'node:fs';
import https from 'node:https';
import express from 'express';
import { config } from '../lib/config';
import { createLogger } from '../lib/log';
import { closeOnSignals } from '../lib/process/close-on-signals';
import { version } from '../lib/version';

/**
 * The portal's HTTP server. A placeholder page until the portal issue moves this to React Router 7
 * framework mode; /healthz is what `mailrepo doctor` and load balancers check.
 */
const cfg = config();
const log = createLogger('web', { level: cfg.LOG_LEVEL });

const app = express();
app.disable('x-powered-by');
if (cfg.WEB_BEHIND_TLS_PROXY) app.set('trust proxy', 1);
app.use((_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Content-Security-Policy', "default-src 'self'; frame-ancestors 'none'");
  next();
});
app.get(
  '/healthz',
  (_req, res) => void res.json({ status: 'ok', service: 'mailrepo-web', version }),
);
app.get('/', (_req, res) => {
  res.type('html')
    .send(`<!doctype html><html lang="de"><head><meta charset="utf-8"><title>mailrepo</title></head>
<body style="font-family:system-ui;max-width:40rem;margin:4rem auto">
<h1>mailrepo</h1><p>Das Kundenportal ist in Vorbereitung. / The customer portal is coming soon.</p>
<p><small>Version ${version}</small></p></body></html>`);
});

const tls = cfg.WEB_TLS_CERT_FILE && cfg.WEB_TLS_KEY_FILE;
const server = tls
  ? https.createServer(
      {
        cert: readFileSync(cfg.WEB_TLS_CERT_FILE!),
        key: readFileSync(cfg.WEB_TLS_KEY_FILE!),
        minVersion: 'TLSv1.2',
      },
      app,
    )
  : app;
const listener = server.listen(cfg.WEB_PORT, cfg.WEB_HOST, () =>
  log.info({ port: cfg.WEB_PORT, tls: !!tls }, 'portal listening'),
);
closeOnSignals(listener);
