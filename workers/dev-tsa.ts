import { config, devTsaDir } from '../lib/config';
import { createLogger } from '../lib/log';
import { closeOnSignals } from '../lib/process/close-on-signals';
import { loadOrCreateDevPki } from '../lib/tsa/dev-ca';
import { chainFromPem } from '../lib/tsa/responder';
import { createTsaServer } from '../lib/tsa/server';

/** The bundled dev TSA: development and tests only; production refuses its URL (lib/config). */
async function main(): Promise<void> {
  const cfg = config();
  if (cfg.NODE_ENV === 'production') throw new Error('the dev TSA never runs in production');
  // Two independent dev TSAs (own roots), as production should configure two (decision 0030).
  const n = process.env.DEV_TSA_INSTANCE === '2' ? 2 : 1;
  const port = n === 1 ? cfg.DEV_TSA_PORT : cfg.DEV_TSA_2_PORT;
  const log = createLogger(`dev-tsa-${n}`, { level: cfg.LOG_LEVEL });
  const { tsa } = await loadOrCreateDevPki(
    devTsaDir(cfg.DATA_DIR, n),
    n === 1 ? 'mailrepo dev TSA' : 'mailrepo dev TSA 2',
  );
  const [, ...chain] = chainFromPem(tsa.certPem);
  const server = createTsaServer({ signer: tsa, chain, log });
  server.listen(port, '127.0.0.1', () => log.info({ port }, 'dev TSA listening'));
  closeOnSignals(server);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
