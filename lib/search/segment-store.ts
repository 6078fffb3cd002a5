import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { open, seal } from '../crypto/aead';
import { bindingBytes } from '../crypto/context';
import { expand, extract } from '../crypto/hkdf';
import type { Db } from '../db';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { FORMAT, inflate, type SegmentHeader } from './segment-format';
import type { WrittenSegment } from './segment-writer';

/**
 * Segments in PostgreSQL: a row per segment with its header and its blocks, each encrypted on its
 * own under a key derived from the epoch's index key and the segment id (AES-256-GCM, the block
 * number as nonce, bound to tenant, epoch, segment and block). `enc_blocks` is stored
 * uncompressed outside the row (STORAGE EXTERNAL), so reading a block reads only its bytes.
 */

export type StoredHeader = SegmentHeader & { ends: ArrayLike<number> };

export interface SegmentRow {
  id: string;
  epochId: string;
  docCount: number;
}

function segmentKey(indexKey: Uint8Array, tenant: string, epochId: string, segmentId: string) {
  const info = bindingBytes({
    tenant,
    epoch: epochId,
    message: segmentId,
    purpose: 'index-segment',
  });
  return expand(extract(Buffer.from(segmentId, 'utf8'), indexKey), info, 32);
}

const nonce = (block: number) => {
  const n = Buffer.alloc(12);
  n.writeUInt32BE(block + 1, 8);
  return n;
};

/** Opens blocks of one segment (the header is block -1). */
export class SegmentKey {
  private readonly key: Buffer;

  constructor(
    indexKey: Uint8Array,
    private readonly tenant: string,
    private readonly epochId: string,
    private readonly segmentId: string,
  ) {
    this.key = segmentKey(indexKey, tenant, epochId, segmentId);
  }

  seal(block: number, plain: Uint8Array): Buffer {
    return seal(this.key, nonce(block), this.aad(block), plain);
  }

  open(block: number, sealed: Uint8Array): Buffer {
    return open(this.key, nonce(block), this.aad(block), sealed);
  }

  private aad(block: number): Buffer {
    return bindingBytes({
      tenant: this.tenant,
      epoch: this.epochId,
      message: `${this.segmentId}.${block < 0 ? 'h' : block}`,
      purpose: 'index-segment',
    });
  }

  dispose(): void {
    this.key.fill(0);
  }
}

/** A segment encrypted and ready to insert (built on a merge thread or in-process). */
export interface SealedSegment {
  id: string;
  docCount: number;
  encHeader: Uint8Array;
  encBlocks: Uint8Array;
}

/** Encrypts a written segment under a fresh id; no database (runs on merge threads). */
export function sealSegment(
  tenantId: string,
  epochId: string,
  indexKey: Uint8Array,
  written: WrittenSegment,
): SealedSegment {
  const id = randomUUID();
  const key = new SegmentKey(indexKey, tenantId, epochId, id);
  try {
    return {
      id,
      docCount: written.header.docs,
      encHeader: key.seal(-1, Buffer.from(JSON.stringify(written.header), 'utf8')),
      encBlocks: Buffer.concat(written.blocks.map((b, n) => key.seal(n, b))),
    };
  } finally {
    key.dispose();
  }
}

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export async function insertSegment(
  tx: TenantTx,
  tenantId: string,
  epochId: string,
  sealed: SealedSegment,
): Promise<string> {
  await tx
    .insertInto('search_segments')
    .values({
      id: sealed.id,
      tenant_id: tenantId,
      epoch_id: epochId,
      doc_count: sealed.docCount,
      format: FORMAT,
      // A thread's answer arrives as Uint8Array: viewed as Buffer, not copied.
      enc_header: asBuffer(sealed.encHeader),
      enc_blocks: asBuffer(sealed.encBlocks),
    })
    .execute();
  return sealed.id;
}

export const storeSegment = (
  tx: TenantTx,
  tenantId: string,
  epochId: string,
  indexKey: Uint8Array,
  written: WrittenSegment,
): Promise<string> =>
  insertSegment(tx, tenantId, epochId, sealSegment(tenantId, epochId, indexKey, written));

/** The tenant's segments a session can read (their epoch's index key still exists). */
export async function liveSegments(tx: TenantTx): Promise<SegmentRow[]> {
  const rows = await tx
    .selectFrom('search_segments as s')
    .innerJoin('epochs as e', 'e.id', 's.epoch_id')
    .select(['s.id', 's.epoch_id', 's.doc_count'])
    .where('s.format', '=', FORMAT)
    .where('e.sealed_index_key', 'is not', null)
    .orderBy('s.created_at')
    .orderBy('s.id')
    .execute();
  return rows.map((r) => ({ id: r.id, epochId: r.epoch_id, docCount: r.doc_count }));
}

/** Encrypted headers of `ids` (a segment merged away meanwhile is missing from the answer). */
export async function readHeaders(
  db: Db,
  tenantId: string,
  ids: string[],
): Promise<Map<string, Buffer>> {
  if (!ids.length) return new Map();
  const rows = await withTenant(db, tenantId, (tx) =>
    tx.selectFrom('search_segments').select(['id', 'enc_header']).where('id', 'in', ids).execute(),
  );
  return new Map(rows.flatMap((r) => (r.enc_header ? [[r.id, r.enc_header] as const] : [])));
}

/** A decrypted header; block ends as a typed array (a segment has thousands of blocks). */
export function parseHeader(plain: Buffer): StoredHeader {
  const header = JSON.parse(plain.toString('utf8')) as SegmentHeader & { ends: number[] };
  return { ...header, ends: Float64Array.from(header.ends) };
}

export const openHeader = (key: SegmentKey, sealed: Buffer): StoredHeader =>
  parseHeader(key.open(-1, sealed));

/** Block `n` of a segment, decrypted and decompressed. */
export const openBlock = (key: SegmentKey, n: number, sealed: Buffer): Buffer =>
  inflate(key.open(n, sealed));

/** Where block `n` lies in `enc_blocks`. */
export const blockRange = (header: StoredHeader, n: number): { offset: number; length: number } => {
  const offset = n === 0 ? 0 : header.ends[n - 1]!;
  return { offset, length: header.ends[n]! - offset };
};

/**
 * Reads many blocks (of any segments of one tenant) with one statement per turn of the event
 * loop: the blocks a query asks for at once arrive together.
 */
export class BlockFetcher {
  private queue: {
    id: string;
    offset: number;
    length: number;
    done: (b: Buffer | undefined) => void;
    fail: (e: unknown) => void;
  }[] = [];

  constructor(
    private readonly db: Db,
    private readonly tenantId: string,
  ) {}

  fetch(id: string, offset: number, length: number): Promise<Buffer | undefined> {
    return new Promise((done, fail) => {
      if (!this.queue.length) setImmediate(() => void this.flush());
      this.queue.push({ id, offset, length, done, fail });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    try {
      const rows = await withTenant(this.db, this.tenantId, (tx) =>
        sql<{ i: number; b: Buffer }>`
          SELECT r.i, substring(s.enc_blocks FROM r.off + 1 FOR r.len) AS b
            FROM unnest(${batch.map((r) => r.id)}::uuid[], ${batch.map((r) => r.offset)}::int[],
                        ${batch.map((r) => r.length)}::int[], ${batch.map((_, i) => i)}::int[])
                 AS r(id, off, len, i)
            JOIN search_segments s ON s.id = r.id`.execute(tx),
      );
      const found = new Map(rows.rows.map((r) => [r.i, r.b]));
      batch.forEach((r, i) => r.done(found.get(i)));
    } catch (e) {
      for (const r of batch) r.fail(e);
    }
  }
}

/** A whole segment's blocks (merging): one read. */
export async function readAllBlocks(
  db: Db,
  tenantId: string,
  id: string,
): Promise<Buffer | undefined> {
  const row = await withTenant(db, tenantId, (tx) =>
    tx.selectFrom('search_segments').select('enc_blocks').where('id', '=', id).executeTakeFirst(),
  );
  return row?.enc_blocks ?? undefined;
}
