import express from 'express';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec } from './codec';

/**
 * Remote codec endpoint for the Temporal UI/CLI (POST /encode, /decode with JSON payloads, as
 * Temporal's codec-server protocol defines). It lets an operator read workflow inputs in the UI, so
 * it is off by default in production and only ever listens on loopback.
 */

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

export function createCodecServer(codec: EncryptionCodec, corsOrigin: string): express.Express {
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
  app.use(express.json({ limit: '4mb' }));
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  for (const op of ['encode', 'decode'] as const) {
    app.post(`/${op}`, async (req, res) => {
      const payloads = (req.body as { payloads?: JsonPayload[] } | undefined)?.payloads;
      if (!Array.isArray(payloads))
        return void res.status(400).json({ error: 'expected {"payloads": [...]}' });
      try {
        const out = await codec[op](payloads.map(fromJson));
        res.json({ payloads: out.map(toJson) });
      } catch {
        res.status(400).json({ error: `cannot ${op} payloads` });
      }
    });
  }
  return app;
}
