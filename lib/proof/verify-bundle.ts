import { createHash, X509Certificate } from 'node:crypto';
import { strFromU8 } from 'fflate';
import { boundedUnzip } from '../zip/bounded-unzip';
import { openCheckpoint, parseVerifierKey, type NoteKey } from '../ledger/checkpoint';
import { noteHash } from '../ledger/checkpointer';
import { hashLeaf, verifyInclusion } from '../ledger/merkle';
import { tokenOf, verifyToken } from '../tsa/client';
import { fromPem } from '../pki/pem';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_V1, BundleFile, type BundleManifest } from './bundle-layout';
import { verifyEvidenceRecord } from '../evidence/verify-evidence';
import { parseTlogProof } from './tlog-proof';

/**
 * `mailrepo verify`: the same steps, in the same order and with the same names, as the bundle's
 * verify.py, so a failure reads the same whichever verifier a customer runs.
 */

export const VERIFY_STEPS = [
  'mail hash',
  'tenant checkpoint signature',
  'tenant inclusion proof',
  'anchor checkpoint signature',
  'anchor inclusion proof',
  'anchor checkpoint file',
  'RFC 3161 timestamp',
  'evidence record',
] as const;
export type VerifyStep = (typeof VERIFY_STEPS)[number] | 'bundle';

export class BundleVerifyError extends Error {
  override name = 'BundleVerifyError';
  constructor(
    readonly step: VerifyStep,
    why: string,
  ) {
    super(`${step}: ${why}`);
  }
}

export interface VerifyTrust {
  /** Verifier keys and TSA root from outside the bundle; each one absent is taken from it. */
  tenantKey?: string;
  anchorKey?: string;
  tsaRootPem?: string;
  /** The date the evidence is judged at (RFC 4998 §5.3); now by default. */
  at?: Date;
}

export interface BundleVerification {
  manifest: BundleManifest;
  genTime: Date;
  /** One line per step that held, as printed. */
  report: string[];
  /** What was taken from the bundle rather than supplied, with fingerprints to compare. */
  trustedFromBundle: string[];
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

async function attempt<T>(step: VerifyStep, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BundleVerifyError) throw e;
    throw new BundleVerifyError(step, e instanceof Error ? e.message : String(e));
  }
}

export async function verifyBundle(
  zip: Uint8Array,
  mail: Uint8Array,
  trust: VerifyTrust = {},
): Promise<BundleVerification> {
  // A bundle is a few small files: anything much larger is not one (and may be a bomb).
  const files = await attempt('bundle', () =>
    boundedUnzip(zip, {
      maxEntries: 64,
      maxEntryBytes: 4 * 1024 ** 2,
      maxTotalBytes: 16 * 1024 ** 2,
    }),
  );
  const need = (name: string, step: VerifyStep): Uint8Array => {
    const f = files[name];
    if (!f) throw new BundleVerifyError(step, `bundle has no ${name}`);
    return f;
  };
  const text = (name: string, step: VerifyStep) => strFromU8(need(name, step));
  const report: string[] = [];
  const trustedFromBundle: string[] = [];

  const manifest = await attempt('bundle', () => {
    const m = JSON.parse(text(BundleFile.manifest, 'bundle')) as BundleManifest;
    if (m.format !== BUNDLE_FORMAT && m.format !== BUNDLE_FORMAT_V1)
      throw new Error(`unknown bundle format ${m.format}`);
    return m;
  });
  const entry = sha256(mail);
  if (entry.toString('hex') !== manifest.entrySha256)
    throw new BundleVerifyError(
      'mail hash',
      `the mail's SHA-256 ${entry.toString('hex')} is not the archived ${manifest.entrySha256}`,
    );
  report.push(`mail hash: ${manifest.entrySha256}`);

  const key = (given: string | undefined, file: string, step: VerifyStep): Promise<NoteKey> =>
    attempt(step, () => {
      if (!given) trustedFromBundle.push(`${file}: ${text(file, step).trim()}`);
      return parseVerifierKey(given ?? text(file, step));
    });
  const tenantKey = await key(trust.tenantKey, BundleFile.tenantKey, 'tenant checkpoint signature');
  const anchorKey = await key(trust.anchorKey, BundleFile.anchorKey, 'anchor checkpoint signature');

  const inclusion = async (
    entryHash: Buffer,
    proofFile: string,
    noteKey: NoteKey,
    sigStep: VerifyStep,
    inclStep: VerifyStep,
  ) => {
    const proof = await attempt(inclStep, () => parseTlogProof(text(proofFile, inclStep)));
    const cp = await attempt(sigStep, () => {
      const c = openCheckpoint(proof.checkpoint, noteKey);
      if (c.origin !== noteKey.name)
        throw new Error(`checkpoint origin ${c.origin} is not the key's log ${noteKey.name}`);
      return c;
    });
    await attempt(inclStep, () => {
      try {
        verifyInclusion(hashLeaf(entryHash), proof.index, cp.size, proof.proof, cp.root);
      } catch (e) {
        throw new Error(
          `entry is not at index ${proof.index} of ${cp.origin} (${(e as Error).message})`,
        );
      }
    });
    report.push(`${sigStep}: ${noteKey.name}`, `${inclStep}: index ${proof.index} of ${cp.size}`);
    return proof.checkpoint;
  };

  const tenantNote = await inclusion(
    entry,
    BundleFile.tenantProof,
    tenantKey,
    'tenant checkpoint signature',
    'tenant inclusion proof',
  );
  if (text(BundleFile.tenantCheckpoint, 'tenant inclusion proof') !== tenantNote)
    throw new BundleVerifyError(
      'tenant inclusion proof',
      `${BundleFile.tenantCheckpoint} is not the checkpoint in ${BundleFile.tenantProof}`,
    );
  const anchorNote = await inclusion(
    noteHash(tenantNote),
    BundleFile.anchorProof,
    anchorKey,
    'anchor checkpoint signature',
    'anchor inclusion proof',
  );
  if (text(BundleFile.anchorCheckpoint, 'anchor checkpoint file') !== anchorNote)
    throw new BundleVerifyError(
      'anchor checkpoint file',
      `${BundleFile.anchorCheckpoint} is not the checkpoint in ${BundleFile.anchorProof}`,
    );
  report.push('anchor checkpoint file');

  let tsaRootPem = trust.tsaRootPem;
  if (!tsaRootPem) {
    tsaRootPem = text(BundleFile.tsaRoot, 'RFC 3161 timestamp');
    for (const der of fromPem('CERTIFICATE', tsaRootPem))
      trustedFromBundle.push(
        `${BundleFile.tsaRoot}: SHA-256 fingerprint ${new X509Certificate(der).fingerprint256}`,
      );
  }
  const caPem = tsaRootPem;
  const data = Buffer.from(anchorNote);
  const stamp = await attempt('RFC 3161 timestamp', () =>
    verifyToken(tokenOf(need(BundleFile.timestampResponse, 'RFC 3161 timestamp')), {
      data,
      caPem,
    }),
  );
  report.push(`RFC 3161 timestamp: ${stamp.genTime.toISOString()}`);

  // Every evidence record (one per TSA), each judged at `at`: one that holds suffices, and the
  // report names them all — a record whose TSA certificate ran out unrenewed is reported, not
  // hidden behind the one that holds.
  const at = trust.at ?? new Date();
  await attempt('evidence record', async () => {
    const listed =
      manifest.format === BUNDLE_FORMAT_V1
        ? [BundleFile.evidenceRecordV1]
        : (manifest.evidence ?? []).map((e) => e.file);
    if (!listed.length) throw new Error('the bundle lists no evidence record');
    const results = await Promise.all(
      listed.map(async (file) => {
        try {
          const steps = await verifyEvidenceRecord(need(file, 'evidence record'), data, {
            caPem,
            at,
          });
          const renewals = steps.length - 1;
          return {
            ok: true,
            line: `${file} holds (${steps[0]!.tsa.replace(/.*CN=/, '')}, ${steps[0]!.genTime.toISOString()}${renewals ? `, ${renewals} renewal(s)` : ''})`,
          };
        } catch (e) {
          return { ok: false, line: `${file} does not hold: ${(e as Error).message}` };
        }
      }),
    );
    const holding = results.filter((r) => r.ok).length;
    if (!holding)
      throw new Error(
        `no evidence record holds on ${at.toISOString()}: ${results.map((r) => r.line).join('; ')}`,
      );
    report.push(
      `evidence record: ${holding} of ${results.length} hold on ${at.toISOString()}: ${results.map((r) => r.line).join('; ')}`,
    );
  });
  return { manifest, genTime: stamp.genTime, report, trustedFromBundle };
}
