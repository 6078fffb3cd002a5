/**
 * The files of a proof bundle (one ZIP per archived entry) and its manifest. VERIFY.md and
 * verify.py in the bundle name the same files; change them together.
 */
export const BUNDLE_FORMAT = 'mailrepo-proof-bundle/v1';

export const BundleFile = {
  manifest: 'manifest.json',
  mailSha256: 'mail.sha256',
  tenantProof: 'tenant.tlog-proof',
  tenantCheckpoint: 'tenant-checkpoint.txt',
  anchorProof: 'anchor.tlog-proof',
  anchorCheckpoint: 'anchor-checkpoint.txt',
  timestampResponse: 'anchor-checkpoint.tsr',
  evidenceRecord: 'checkpoint.ers',
  tsaChain: 'tsa-chain.pem',
  tsaRoot: 'tsa-root.pem',
  tenantKey: 'keys/tenant-log.vkey',
  tenantKeyPem: 'keys/tenant-log.pem',
  anchorKey: 'keys/anchor-log.vkey',
  anchorKeyPem: 'keys/anchor-log.pem',
  instructions: 'VERIFY.md',
  script: 'verify.py',
} as const;

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  /** Hex SHA-256 of the archived mail's exact bytes: the tenant log entry. */
  entrySha256: string;
  kind: string;
  tenantLog: { origin: string; index: number; checkpointSize: number };
  anchorLog: { origin: string; index: number; checkpointSize: number };
  timestamp: { genTime: string; serial: string; policy: string };
}
