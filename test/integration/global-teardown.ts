import { rmSync } from 'node:fs';
import { dropDatabase } from '../../lib/db/migrate';
import type { Stack } from '../../infra/stack';

export default async function globalTeardown(): Promise<void> {
  const holder = (globalThis as { __MAILREPO_STACK__?: { stack: Stack; dataDir: string } })
    .__MAILREPO_STACK__;
  if (!holder) return;
  const { stack, dataDir } = holder;
  await stack.stop();
  // An embedded server's data goes with dataDir; on a shared server the run's database is dropped.
  if (!stack.database.embedded) {
    await dropDatabase(stack.database.url).catch((e) =>
      console.error(`could not drop test database: ${e}`),
    );
  }
  rmSync(dataDir, { recursive: true, force: true });
}
