/**
 * C2SP tlog-proof (c2sp.org/tlog-proof): an entry's index, its RFC 9162 inclusion proof and the
 * signed checkpoint it leads to, as one text file.
 *
 *   c2sp.org/tlog-proof@v1
 *   [extra <base64>]
 *   index <decimal>
 *   <base64 hash>...        leaf's sibling first, up to the root's child
 *
 *   <checkpoint note, verbatim>
 */

export const TLOG_PROOF_HEADER = 'c2sp.org/tlog-proof@v1';

export interface TlogProof {
  index: number;
  proof: Buffer[];
  /** The signed checkpoint note, verbatim. */
  checkpoint: string;
  extra?: Buffer;
}

export class TlogProofError extends Error {
  override name = 'TlogProofError';
}

export function formatTlogProof(p: TlogProof): string {
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra) lines.push(`extra ${p.extra.toString('base64')}`);
  lines.push(`index ${p.index}`, ...p.proof.map((h) => h.toString('base64')));
  return `${lines.join('\n')}\n\n${p.checkpoint}`;
}

const B64_HASH = /^[A-Za-z0-9+/]{43}=$/;

export function parseTlogProof(text: string): TlogProof {
  const split = text.indexOf('\n\n');
  if (split < 0) throw new TlogProofError('proof has no checkpoint after an empty line');
  const lines = text.slice(0, split).split('\n');
  const checkpoint = text.slice(split + 2);
  if (lines.shift() !== TLOG_PROOF_HEADER)
    throw new TlogProofError(`first line is not ${TLOG_PROOF_HEADER}`);
  let extra: Buffer | undefined;
  if (lines[0]?.startsWith('extra ')) extra = Buffer.from(lines.shift()!.slice(6), 'base64');
  const m = /^index (0|[1-9][0-9]*)$/.exec(lines.shift() ?? '');
  if (!m) throw new TlogProofError('index line is missing or malformed');
  const index = Number(m[1]);
  if (!Number.isSafeInteger(index)) throw new TlogProofError('index is too large');
  const proof = lines.map((l, i) => {
    if (!B64_HASH.test(l)) throw new TlogProofError(`proof line ${i + 1} is not a base64 SHA-256`);
    return Buffer.from(l, 'base64');
  });
  return { index, proof, checkpoint, ...(extra ? { extra } : {}) };
}
