import { Client, Connection } from '@temporalio/client';
import { temporalTls } from './tls';
import type { Config } from '../config';
import { dataConverter } from './data-converter';

export async function connectTemporal(cfg: Config): Promise<Client> {
  const connection = await Connection.connect({
    address: cfg.TEMPORAL_ADDRESS,
    tls: temporalTls(cfg),
    connectTimeout: 5_000,
  });
  return new Client({
    connection,
    namespace: cfg.TEMPORAL_NAMESPACE,
    dataConverter: dataConverter(cfg.TEMPORAL_CODEC_KEYS),
  });
}
