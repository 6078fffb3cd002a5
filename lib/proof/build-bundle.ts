import { strToU8, zipSync } from 'fflate';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { ed25519PublicKey, keyHash, verifierKey, type NoteKey } from '../ledger/checkpoint';
import { timestampCovering } from '../ledger/checkpointer';
import { inclusionProofFor } from '../ledger/store';
import { readToken, tokenCertificates, tokenOf, verifyToken } from '../tsa/client';
import { fromPem, toPem } from '../pki/pem';
import {
  BUNDLE_FORMAT,
  BundleFile,
  evidenceFile,
  type BundleEvidence,
  type BundleManifest,
} from './bundle-layout';
import {
  evidenceRecord,
  parseEvidenceRecord,
  type ParsedEvidenceRecord,
} from '../evidence/evidence-record';
import { formatTlogProof } from './tlog-proof';
import { renderVerifyHtml } from './verify-html';
import { renderVerifyMd } from './verify-md';

export class ProofUnavailableError extends Error {
  override name = 'ProofUnavailableError';
  constructor(
    readonly reason: 'not-in-ledger' | 'not-yet-timestamped',
    message: string,
  ) {
    super(message);
  }
}

export interface ProofBundle {
  zip: Uint8Array;
  manifest: BundleManifest;
}

const ASSETS = path.join(__dirname, 'assets');

const keyPem = (publicKey: Buffer): string =>
  ed25519PublicKey(publicKey).export({ type: 'spki', format: 'pem' }).toString();

/**
 * The proof bundle for one entry of a tenant's log (for a mail: the SHA-256 of its bytes), read
 * under the tenant's scope. Fails with ProofUnavailableError while the entry is not yet covered by
 * a timestamped anchor checkpoint.
 */
export async function buildProofBundle(
  db: Db,
  input: { tenantId: string; entrySha256: Buffer; tsaCaPem: string },
): Promise<ProofBundle> {
  return withTenant(db, input.tenantId, async (tx) => {
    const log = await tx
      .selectFrom('ledger_logs')
      .select(['id', 'origin', 'signing_public_key'])
      .where('tenant_id', '=', input.tenantId)
      .executeTakeFirst();
    const entry =
      log &&
      (await tx
        .selectFrom('ledger_entries')
        .select(['idx', 'kind'])
        .where('log_id', '=', log.id)
        .where('entry_hash', '=', input.entrySha256)
        .executeTakeFirst());
    if (!log || !entry)
      throw new ProofUnavailableError('not-in-ledger', "the entry is not in this tenant's ledger");
    const covered = await timestampCovering(tx, log.id, entry.idx);
    if (!covered)
      throw new ProofUnavailableError(
        'not-yet-timestamped',
        'the entry is not yet covered by a timestamped checkpoint; try again in a minute',
      );
    const { tenantCheckpoint: tcp, anchorCheckpoint: acp } = covered;
    const anchor = await tx
      .selectFrom('ledger_logs')
      .select(['id', 'origin', 'signing_public_key'])
      .where('tenant_id', 'is', null)
      .executeTakeFirstOrThrow();
    const tenantProof = await inclusionProofFor(tx, log.id, entry.idx, tcp.size);
    const anchorProof = await inclusionProofFor(tx, anchor.id, tcp.anchor_index!, acp.size);

    const tsr = new Uint8Array(acp.tsa_response!);
    const token = tokenOf(tsr);
    const stamp = await verifyToken(token, {
      data: Buffer.from(acp.note),
      caPem: input.tsaCaPem,
    });
    // Every TSA's evidence record of the checkpoint, renewed as far as it was (decision 0030); a
    // checkpoint timestamped before records were kept has its one token as a record.
    const stored = await tx
      .selectFrom('anchor_evidence')
      .select(['record'])
      .where('log_id', '=', anchor.id)
      .where('size', '=', acp.size)
      .orderBy('first_gen_time')
      .orderBy('tsa_url')
      .execute();
    const records = stored.length
      ? stored.map((r) => new Uint8Array(r.record))
      : [evidenceRecord(token)];
    const parsed = records.map(parseEvidenceRecord);
    const evidence = parsed.map((record, i) => describeEvidence(record, evidenceFile(i + 1)));
    const roots = fromPem('CERTIFICATE', input.tsaCaPem);
    const carried = uniqueCertificates([
      ...tokenCertificates(token),
      ...parsed.flatMap((r) =>
        r.chains.flatMap((c) => c.flatMap((a) => tokenCertificates(a.tokenDer))),
      ),
    ]).filter((c) => !roots.some((r) => Buffer.compare(Buffer.from(r), Buffer.from(c)) === 0));

    const tenantKey: NoteKey = { name: log.origin, publicKey: log.signing_public_key };
    const anchorKey: NoteKey = { name: anchor.origin, publicKey: anchor.signing_public_key };
    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT,
      entrySha256: input.entrySha256.toString('hex'),
      kind: entry.kind,
      tenantLog: { origin: log.origin, index: entry.idx, checkpointSize: tcp.size },
      anchorLog: { origin: anchor.origin, index: tcp.anchor_index!, checkpointSize: acp.size },
      timestamp: {
        genTime: stamp.genTime.toISOString(),
        serial: stamp.serialHex,
        policy: stamp.policy,
      },
      evidence,
    };
    const text = (s: string) => strToU8(s);
    const first = parsed[0]!.chains[0]![0]!.tokenDer;
    const files: Record<string, Uint8Array> = {
      [BundleFile.instructions]: text(
        renderVerifyMd({
          manifest,
          tenantKeyHash: keyHash(tenantKey.name, tenantKey.publicKey).toString('hex'),
          anchorKeyHash: keyHash(anchorKey.name, anchorKey.publicKey).toString('hex'),
          tenantProof,
          anchorProof,
          ersToken: {
            offset: Buffer.from(records[0]!).indexOf(Buffer.from(first)),
            length: first.length,
          },
        }),
      ),
      [BundleFile.script]: readFileSync(path.join(ASSETS, 'verify.py')),
      [BundleFile.manifest]: text(`${JSON.stringify(manifest, null, 2)}\n`),
      [BundleFile.mailSha256]: text(`${manifest.entrySha256}  mail.eml\n`),
      [BundleFile.tenantProof]: text(
        formatTlogProof({ index: entry.idx, proof: tenantProof, checkpoint: tcp.note }),
      ),
      [BundleFile.tenantCheckpoint]: text(tcp.note),
      [BundleFile.anchorProof]: text(
        formatTlogProof({ index: tcp.anchor_index!, proof: anchorProof, checkpoint: acp.note }),
      ),
      [BundleFile.anchorCheckpoint]: text(acp.note),
      [BundleFile.timestampResponse]: tsr,
      ...Object.fromEntries(records.map((r, i) => [evidenceFile(i + 1), r])),
      [BundleFile.tsaChain]: text(carried.map((c) => toPem('CERTIFICATE', c)).join('')),
      [BundleFile.tsaRoot]: text(roots.map((c) => toPem('CERTIFICATE', c)).join('')),
      [BundleFile.tenantKey]: text(`${verifierKey(tenantKey)}\n`),
      [BundleFile.tenantKeyPem]: text(keyPem(tenantKey.publicKey)),
      [BundleFile.anchorKey]: text(`${verifierKey(anchorKey)}\n`),
      [BundleFile.anchorKeyPem]: text(keyPem(anchorKey.publicKey)),
    };
    files[BundleFile.html] = renderVerifyHtml(files);
    // A fixed file time keeps bundles of the same proof byte-identical.
    const mtime = new Date(manifest.timestamp.genTime);
    const zip = zipSync(
      Object.fromEntries(Object.entries(files).map(([n, b]) => [n, [b, { mtime }]])),
      { level: 6 },
    );
    return { zip, manifest };
  });
}

/** What the manifest says of one evidence record (read from it, not verified here). */
function describeEvidence({ chains }: ParsedEvidenceRecord, file: string): BundleEvidence {
  const first = readToken(chains[0]![0]!.tokenDer);
  const lastChain = chains[chains.length - 1]!;
  const last = readToken(lastChain[lastChain.length - 1]!.tokenDer);
  return {
    file,
    tsa: new X509Certificate(first.signerCertDer).subject.replace(/\n/g, ', '),
    firstGenTime: first.genTime.toISOString(),
    timestamps: chains.reduce((n, c) => n + c.length, 0),
    chains: chains.length,
    validUntil: last.notAfter.toISOString(),
  };
}

function uniqueCertificates(certs: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return certs.filter((c) => {
    const k = Buffer.from(c).toString('base64');
    return !seen.has(k) && (seen.add(k), true);
  });
}
