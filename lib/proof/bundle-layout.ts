/**
 * The files of a proof bundle (one ZIP per archived entry) and its manifest. VERIFY.md and
 * verify.py in the bundle name the same files; change them together.
 */
export const BUNDLE_FORMAT = 'mailrepo-proof-bundle/v2';
/** Bundles issued before evidence records were renewed: one record, `checkpoint.ers`. */
export const BUNDLE_FORMAT_V1 = 'mailrepo-proof-bundle/v1';

export const BundleFile = {
  manifest: 'manifest.json',
  mailSha256: 'mail.sha256',
  tenantProof: 'tenant.tlog-proof',
  tenantCheckpoint: 'tenant-checkpoint.txt',
  anchorProof: 'anchor.tlog-proof',
  anchorCheckpoint: 'anchor-checkpoint.txt',
  timestampResponse: 'anchor-checkpoint.tsr',
  /** v1 only: the one evidence record. */
  evidenceRecordV1: 'checkpoint.ers',
  tsaChain: 'tsa-chain.pem',
  tsaRoot: 'tsa-root.pem',
  tenantKey: 'keys/tenant-log.vkey',
  tenantKeyPem: 'keys/tenant-log.pem',
  anchorKey: 'keys/anchor-log.vkey',
  anchorKeyPem: 'keys/anchor-log.pem',
  instructions: 'VERIFY.md',
  script: 'verify.py',
  /** The verifier for a browser: offline, the bundle's files inside it. */
  html: 'verify.html',
} as const;

/** The n-th evidence record (1-based): one per TSA that timestamped the anchor checkpoint. */
export const evidenceFile = (n: number) => `evidence/${n}.ers`;

export interface BundleEvidence {
  file: string;
  /** The TSA that made the first timestamp (its signing certificate's subject). */
  tsa: string;
  firstGenTime: string;
  /** Timestamps in the record: the first and every renewal. */
  timestamps: number;
  /** Hash-tree renewals start a new chain; one chain means none so far. */
  chains: number;
  /** The last timestamp's TSA certificate ends here: the record is renewed before. */
  validUntil: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT | typeof BUNDLE_FORMAT_V1;
  /** Hex SHA-256 of the archived mail's exact bytes: the tenant log entry. */
  entrySha256: string;
  kind: string;
  tenantLog: { origin: string; index: number; checkpointSize: number };
  anchorLog: { origin: string; index: number; checkpointSize: number };
  /** The RFC 3161 response in anchor-checkpoint.tsr (the first TSA to answer). */
  timestamp: { genTime: string; serial: string; policy: string };
  /** v2: the evidence records, one per TSA (decision 0030). */
  evidence?: BundleEvidence[];
}
