import { timingSafeEqual, createHash } from 'node:crypto';
import express from 'express';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec } from './codec';

/**
 * Remote codec endpoint for the Temporal UI/CLI (POST /encode, /decode with JSON payloads, as
 * Temporal's codec-server protocol defines). It lets an operator read workflow inputs in the UI, so
 * it is off by default in production, only ever listens on loopback, requires a bearer token when
 * one is configured (always in production), and never hands out key material: fields that hold
 * keys or secrets (decryption grants, upload keys, passwords) are blanked in what it decodes.
 */
const SECRET_FIELDS = /^(grantKey|key|password|secret|token|.*Key)$/;

/** A decoded JSON payload with every secret-named field's value replaced. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        SECRET_FIELDS.test(k) && v !== null && typeof v !== 'object'
          ? '[redacted]'
          : redactSecrets(v),
      ]),
    );
  return value;
}

function redactPayload(p: Payload): Payload {
  const encoding = Buffer.from(p.metadata?.encoding ?? []).toString();
  if (encoding !== 'json/plain' || !p.data) return p;
  try {
    const json = JSON.parse(Buffer.from(p.data).toString('utf8')) as unknown;
    return { ...p, data: Buffer.from(JSON.stringify(redactSecrets(json))) };
  } catch {
    return { ...p, data: Buffer.alloc(0) };
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

export function createCodecServer(
  codec: EncryptionCodec,
  corsOrigin: string,
  token?: string,
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.setHeader('Access-Control-Allow-Origin', corsOrigin);
    res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    if (req.method === 'OPTIONS') return void res.sendStatus(204);
    next();
  });
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.use((req, res, next) => {
    if (!token) return next();
    const given = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1] ?? '';
    if (!timingSafeEqual(digest(given), digest(token)))
      return void res.status(401).json({ error: 'a bearer token is required' });
    next();
  });
  app.use(express.json({ limit: '4mb' }));
  for (const op of ['encode', 'decode'] as const) {
    app.post(`/${op}`, async (req, res) => {
      const payloads = (req.body as { payloads?: JsonPayload[] } | undefined)?.payloads;
      if (!Array.isArray(payloads))
        return void res.status(400).json({ error: 'expected {"payloads": [...]}' });
      try {
        const out = await codec[op](payloads.map(fromJson));
        res.json({ payloads: (op === 'decode' ? out.map(redactPayload) : out).map(toJson) });
      } catch {
        res.status(400).json({ error: `cannot ${op} payloads` });
      }
    });
  }
  return app;
}
