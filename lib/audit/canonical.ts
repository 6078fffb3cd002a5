import { createHash } from 'node:crypto';

/**
 * The canonical encoding of an audit event, which its chain hash covers (docs/audit.md):
 * JSON with object keys sorted by UTF-16 code units, no whitespace, strings escaped as
 * ECMAScript's JSON.stringify does, integers only (no floats), as RFC 8785 (JCS) does for this
 * subset of JSON. `hash = SHA-256(prev_hash ‖ UTF-8(canonical event))`; the first event's
 * prev_hash is 32 zero bytes.
 */

export type Canonical =
  string | number | boolean | null | Canonical[] | { [key: string]: Canonical };

export class CanonicalError extends Error {
  override name = 'CanonicalError';
}

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'string') {
    // PostgreSQL's jsonb cannot hold NUL; refuse it rather than store something else.
    if (v.includes('\u0000')) throw new CanonicalError('strings may not contain NUL');
    return JSON.stringify(v);
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new CanonicalError(`only safe integers, not ${v}`);
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${canonicalJson(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  throw new CanonicalError(`cannot encode a ${typeof v}`);
}

export const GENESIS = Buffer.alloc(32);

/** The fields of an event that its hash covers, as stored. */
export interface ChainedEvent {
  tenantId: string;
  seq: number;
  id: string;
  at: Date;
  action: string;
  actor: { type: string; id: string | null; label: string | null };
  target: { type: string; id: string } | null;
  ip: string | null;
  details: Record<string, unknown>;
  sealedDetails: Buffer | null;
}

export function canonicalEvent(e: ChainedEvent): string {
  return canonicalJson({
    v: 1,
    tenant: e.tenantId,
    seq: e.seq,
    id: e.id,
    at: e.at.toISOString(),
    action: e.action,
    actor: e.actor,
    target: e.target,
    ip: e.ip,
    details: e.details,
    sealedDetails: e.sealedDetails ? e.sealedDetails.toString('base64') : null,
  });
}

/** The bytes a chain hash is computed over (also the subject of an anchored head's proof bundle). */
export const chainPreimage = (prev: Buffer, e: ChainedEvent): Buffer =>
  Buffer.concat([prev, Buffer.from(canonicalEvent(e), 'utf8')]);

export const chainHash = (prev: Buffer, e: ChainedEvent): Buffer =>
  createHash('sha256').update(chainPreimage(prev, e)).digest();
