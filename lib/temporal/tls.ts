import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Config } from '../config';

/**
 * The TLS settings of every connection to Temporal (client, worker, doctor): off in development,
 * TLS with a client certificate (mTLS) in production — self-hosted frontends with
 * `requireClientAuth`, and Temporal Cloud, both verify it.
 */
export function temporalTls(
  cfg: Pick<
    Config,
    | 'TEMPORAL_TLS'
    | 'TEMPORAL_TLS_CERT_FILE'
    | 'TEMPORAL_TLS_KEY_FILE'
    | 'TEMPORAL_TLS_CA_FILE'
    | 'TEMPORAL_TLS_SERVER_NAME'
  >,
): TLSConfig | false {
  if (!cfg.TEMPORAL_TLS) return false;
  return {
    ...(cfg.TEMPORAL_TLS_SERVER_NAME ? { serverNameOverride: cfg.TEMPORAL_TLS_SERVER_NAME } : {}),
    ...(cfg.TEMPORAL_TLS_CA_FILE
      ? { serverRootCACertificate: readFileSync(cfg.TEMPORAL_TLS_CA_FILE) }
      : {}),
    ...(cfg.TEMPORAL_TLS_CERT_FILE && cfg.TEMPORAL_TLS_KEY_FILE
      ? {
          clientCertPair: {
            crt: readFileSync(cfg.TEMPORAL_TLS_CERT_FILE),
            key: readFileSync(cfg.TEMPORAL_TLS_KEY_FILE),
          },
        }
      : {}),
  };
}
