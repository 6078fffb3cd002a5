import { config } from '../lib/config';
import { createLogger } from '../lib/log';
import { closeOnSignals } from '../lib/process/close-on-signals';
import { EncryptionCodec, parseCodecKeys } from '../lib/temporal/codec';
import { createCodecServer } from '../lib/temporal/codec-server';

const cfg = config();
const log = createLogger('codec-server', { level: cfg.LOG_LEVEL });
if (!cfg.CODEC_SERVER_ENABLED) {
  log.warn('CODEC_SERVER_ENABLED is false; not starting');
  process.exit(0);
}
const app = createCodecServer(
  new EncryptionCodec(parseCodecKeys(cfg.TEMPORAL_CODEC_KEYS)),
  cfg.CODEC_SERVER_CORS_ORIGIN,
  cfg.CODEC_SERVER_TOKEN,
);
const server = app.listen(cfg.CODEC_SERVER_PORT, '127.0.0.1', () =>
  log.info({ port: cfg.CODEC_SERVER_PORT }, 'codec endpoint listening'),
);
closeOnSignals(server);
