import type { EphemeralStack } from '../../infra/ephemeral-stack';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __MAILREPO_STACK__?: EphemeralStack }).__MAILREPO_STACK__?.dispose();
}
