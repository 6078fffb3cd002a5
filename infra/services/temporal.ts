import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeFlags } from '../../contracts/search-attributes';
import { waitFor, type ProcessGroup } from '../processes';

export interface TemporalOptions {
  bin: string;
  port: number;
  uiPort?: number;
  httpPort: number;
  metricsPort: number;
  namespace: string;
  /** SQLite file; omitted = in-memory (tests). */
  dbFile?: string;
  codecEndpoint?: string;
}

/** `temporal server start-dev` with our namespace and search attributes registered at start. */
export async function startTemporal(group: ProcessGroup, o: TemporalOptions): Promise<void> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--http-port',
    String(o.httpPort),
  ];
  args.push(
    '--metrics-port',
    String(o.metricsPort),
    '--namespace',
    o.namespace,
    '--log-level',
    'warn',
  );
  for (const sa of searchAttributeFlags) args.push('--search-attribute', sa);
  if (o.dbFile) {
    mkdirSync(path.dirname(o.dbFile), { recursive: true });
    // WAL + synchronous=NORMAL: durable across process crashes, far fewer fsyncs than FULL.
    args.push(
      '--db-filename',
      o.dbFile,
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=NORMAL',
    );
  }
  if (o.uiPort) {
    args.push('--ui-ip', '127.0.0.1', '--ui-port', String(o.uiPort));
    if (o.codecEndpoint) args.push('--ui-codec-endpoint', o.codecEndpoint);
  } else args.push('--headless');
  const child = group.start('temporal', o.bin, args);
  await waitFor(
    'Temporal',
    async () => {
      const conn = await Connection.connect({
        address: `127.0.0.1:${o.port}`,
        connectTimeout: 1000,
      });
      try {
        await conn.workflowService.describeNamespace({ namespace: o.namespace });
        return true;
      } finally {
        await conn.close();
      }
    },
    120_000,
    child,
  );
}
