import { startEphemeralStack, type EphemeralStack } from '../../infra/ephemeral-stack';

/**
 * Starts the real services for integration tests: Temporal (in memory), MinIO (4 drives in a temp
 * dir), the dev TSA, the Temporal worker, LMTP and portal processes, and a database of its own
 * (`mailrepo_test_<time>_<pid>`), so parallel runs and a running `npm run dev` never collide.
 */
export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  process.stdout.write(
    '\nstarting the integration stack (Temporal, MinIO, PostgreSQL, TSA, workers)…\n',
  );
  const running = await startEphemeralStack({
    prefix: 'mailrepo_test',
    apps: ['codec-server', 'worker', 'lmtp', 'web'],
    // Checkpoint often, so tests that wait for a timestamp wait seconds, not ten.
    checkpointIntervalS: 2,
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(`integration stack up in ${Math.round((Date.now() - started) / 1000)}s\n`);
  Object.assign(process.env, running.env);
  (globalThis as { __MAILREPO_STACK__?: EphemeralStack }).__MAILREPO_STACK__ = running;
}
