import path from 'node:path';
import { config } from '../lib/config';
import { createLogger } from '../lib/log';
import { closeOnSignals } from '../lib/process/close-on-signals';
import { loadOrCreateDevPki } from '../lib/tsa/dev-ca';
import { chainFromPem } from '../lib/tsa/responder';
import { createTsaServer } from '../lib/tsa/server';

/** The bundled dev TSA: development and tests only; production refuses its URL (lib/config). */
async function main(): Promise<void> {
  const cfg = config();
  if (cfg.NODE_ENV === 'production') throw new Error('the dev TSA never runs in production');
  const log = createLogger('dev-tsa', { level: cfg.LOG_LEVEL });
  const { tsa } = await loadOrCreateDevPki(path.join(cfg.DATA_DIR, 'tsa'));
  const [, ...chain] = chainFromPem(tsa.certPem);
  const server = createTsaServer({ signer: tsa, chain, log });
  server.listen(cfg.DEV_TSA_PORT, '127.0.0.1', () =>
    log.info({ port: cfg.DEV_TSA_PORT }, 'dev TSA listening'),
  );
  closeOnSignals(server);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
