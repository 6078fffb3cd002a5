import { readFileSync } from 'node:fs';
import { SMTPServer } from 'smtp-server';
import { config } from '../lib/config';
import { createLogger } from '../lib/log';
import { closeOnSignals } from '../lib/process/close-on-signals';
import { version } from '../lib/version';

/**
 * LMTP ingest endpoint. Until the archiveMail workflow exists (ingest issue) every message is
 * answered with a temporary failure, so a sending MTA keeps it queued and retries: nothing is
 * acknowledged that was not stored.
 */
const cfg = config();
const log = createLogger('lmtp', { level: cfg.LOG_LEVEL });
const tls =
  cfg.LMTP_TLS_CERT_FILE && cfg.LMTP_TLS_KEY_FILE
    ? { cert: readFileSync(cfg.LMTP_TLS_CERT_FILE), key: readFileSync(cfg.LMTP_TLS_KEY_FILE) }
    : undefined;

const server = new SMTPServer({
  lmtp: true,
  name: 'mailrepo',
  banner: `ready (mailrepo ${version})`,
  authOptional: true,
  disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
  ...(tls ? { ...tls, minVersion: 'TLSv1.2' as const } : {}),
  size: 100 * 1024 * 1024,
  logger: false,
  onData(stream, _session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => {
      const err = Object.assign(
        new Error('4.3.2 archive ingest not enabled yet, try again later'),
        { responseCode: 451 },
      );
      callback(err);
    });
  },
});
server.on('error', (err) => log.error({ err }, 'LMTP server error'));
server.listen(cfg.LMTP_PORT, cfg.LMTP_HOST, () =>
  log.info({ port: cfg.LMTP_PORT, tls: !!tls }, 'LMTP listening'),
);
closeOnSignals(server);
