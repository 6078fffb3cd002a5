import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { recordAudit } from '../audit/record';
import { DecryptStream } from '../crypto/stream';
import type { ImportProblem } from '../db/schema';
import { withTenant } from '../db/tenant-scope';
import { receiveMail, type IngestDeps } from '../ingest/receive';
import { bind } from '../crypto/bindings';
import { entryProblem, originalReceiptTime, tooLarge, type EntryProblem } from './entry';
import { MboxSplitter } from './mbox';
import { ZipSplitter } from './zip';

/**
 * Runs one import (issue 9 §5): the uploaded file is read back from S3 and decrypted as a stream,
 * split into mails, and each mail goes through the same path as LMTP delivery (staged ciphertext,
 * message row, archiveMail workflow) — with the original receipt time kept beside the envelope and
 * the archive time the import's. Duplicates are the archive's own (same SHA-256). A malformed entry
 * is reported and skipped. Progress is stored after every entry, so a retried run resumes after
 * the last finished one.
 */

export interface ImportDeps extends IngestDeps {
  maxMessageBytes: number;
}

export interface ImportSummary {
  entries: number;
  archived: number;
  duplicates: number;
  malformed: number;
}

/** Problems kept per import; the counts stay exact beyond it. */
const MAX_PROBLEMS = 1000;
/** Entries archived at once, and their bytes at most (one larger entry runs alone). */
const IMPORT_CONCURRENCY = 8;
const IMPORT_BYTES_IN_FLIGHT = 64 * 1024 * 1024;

interface Entry {
  index: number;
  name?: string;
  bytes?: Buffer;
  problem?: EntryProblem;
  separator?: string;
}

export async function runImport(
  deps: ImportDeps,
  input: { tenantId: string; importId: string; key: Buffer },
  progress: () => void = () => {},
): Promise<ImportSummary> {
  const { tenantId, importId } = input;
  const row = await withTenant(deps.db, tenantId, (tx) =>
    tx.selectFrom('imports').selectAll().where('id', '=', importId).executeTakeFirstOrThrow(),
  );
  const summary = (): ImportSummary => ({
    entries: state.entries,
    archived: state.archived,
    duplicates: state.duplicates,
    malformed: state.malformed,
  });
  const state = {
    entries: row.entries_done,
    archived: row.archived,
    duplicates: row.duplicates,
    malformed: row.malformed,
    problems: row.problems,
    bytes: 0,
  };
  if (row.status !== 'running') return summary();

  const save = (extra: Partial<{ status: 'done'; finished_at: Date }> = {}) =>
    withTenant(deps.db, tenantId, (tx) =>
      tx
        .updateTable('imports')
        .set({
          entries_done: state.entries,
          archived: state.archived,
          duplicates: state.duplicates,
          malformed: state.malformed,
          problems: JSON.stringify(state.problems),
          bytes_done: state.bytes,
          ...extra,
        })
        .where('id', '=', importId)
        .execute(),
    );
  const report = (p: ImportProblem) => {
    state.malformed++;
    if (state.problems.length < MAX_PROBLEMS) state.problems.push(p);
  };

  /** What one entry did; applied to the counts in entry order (see `finished`). */
  type Outcome = { archived: boolean; duplicate: boolean; problem?: ImportProblem };

  async function archiveEntry(e: Entry): Promise<Outcome> {
    const where = { entry: e.index, ...(e.name ? { name: e.name } : {}) };
    const problem = e.problem ?? entryProblem(e.bytes!, deps.maxMessageBytes);
    if (problem) return { archived: false, duplicate: false, problem: { ...where, ...problem } };
    const received = originalReceiptTime(e.bytes!, e.separator);
    const outcomes = await receiveMail(deps, Readable.from([e.bytes!]), {
      mailFrom: '',
      recipients: [{ address: 'import', tenantId }],
      imported: {
        importId,
        entry: e.index,
        ...(e.name ? { name: e.name } : {}),
        ...(received ? { originalReceivedAt: received.toISOString() } : {}),
      },
    });
    const o = outcomes.get(tenantId)!;
    if (o.ok) return { archived: !o.duplicate, duplicate: o.duplicate };
    if (o.code >= 500)
      return {
        archived: false,
        duplicate: false,
        problem: {
          ...where,
          ...(o.code === 552 ? tooLarge(deps.maxMessageBytes) : { reason: 'import.skip.refused' }),
        },
      };
    // Temporarily unavailable (S3, database): the activity's retry resumes at this entry.
    throw new Error(`archiving entry ${e.index} failed for now: ${o.text}`);
  }

  // Several entries at once (issue 19: an import at the rate of LMTP — one at a time, each would
  // wait for its own archive batch), bounded in count and bytes. Progress is saved for the entries
  // done without a gap, in order: a retry resumes after the last of them.
  const inFlight = new Set<Promise<void>>();
  const finished = new Map<number, Outcome>();
  const sameMail = new Map<string, Promise<void>>();
  let bytesInFlight = 0;
  let failure: unknown;
  let saving = Promise.resolve();
  const advance = () => {
    let moved = false;
    for (let o = finished.get(state.entries); o; o = finished.get(state.entries)) {
      finished.delete(state.entries);
      if (o.problem) report(o.problem);
      if (o.archived) state.archived++;
      if (o.duplicate) state.duplicates++;
      state.entries++;
      moved = true;
    }
    // A failed save or heartbeat (the activity cancelled) ends the import after what is under
    // way has finished and been saved: a retry then redoes as little as possible.
    if (moved)
      saving = saving
        .then(() => save())
        .then(progress)
        .catch((e: unknown) => {
          failure ??= e;
        });
  };

  async function handle(e: Entry): Promise<void> {
    if (e.index < row.entries_done) return; // done before a retry
    const size = e.bytes?.length ?? 0;
    while (
      inFlight.size >= IMPORT_CONCURRENCY ||
      (inFlight.size > 0 && bytesInFlight + size > IMPORT_BYTES_IN_FLIGHT)
    )
      await Promise.race(inFlight);
    if (failure) throw failure; // what is under way is finished and saved below, first
    // The same mail twice in one file: the first occurrence is the one archived (its receipt time
    // and entry number), the later one its duplicate — also when both are under way at once.
    const digest = e.bytes && createHash('sha256').update(e.bytes).digest('hex');
    const earlier = digest ? sameMail.get(digest) : undefined;
    bytesInFlight += size;
    const run = (earlier ?? Promise.resolve())
      .then(() => archiveEntry(e))
      .then(
        (outcome) => {
          finished.set(e.index, outcome);
          advance();
        },
        (err: unknown) => {
          failure ??= err;
        },
      );
    const tracked = run.finally(() => {
      bytesInFlight -= size;
      inFlight.delete(tracked);
      if (digest && sameMail.get(digest) === tracked) sameMail.delete(digest);
    });
    inFlight.add(tracked);
    if (digest) sameMail.set(digest, tracked);
  }

  const object = await deps.s3.send(
    new GetObjectCommand({ Bucket: deps.bucket, Key: row.object_key }),
  );
  const plain = (object.Body as Readable).pipe(
    new DecryptStream(input.key, bind.importUpload(tenantId, importId)),
  );
  const mbox = row.format === 'mbox' ? new MboxSplitter(deps.maxMessageBytes) : undefined;
  const zip = row.format === 'zip' ? new ZipSplitter(deps.maxMessageBytes) : undefined;
  const split = (chunk: Buffer, final: boolean): Entry[] =>
    mbox ? [...mbox.push(chunk), ...(final ? mbox.end() : [])] : zip!.push(chunk, final);
  try {
    for await (const chunk of plain as AsyncIterable<Buffer>) {
      for (const e of split(chunk, false)) await handle(e);
      state.bytes += chunk.length;
    }
    for (const e of split(Buffer.alloc(0), true)) await handle(e);
  } finally {
    // Whatever ends the reading, entries under way finish and their progress is saved first.
    await Promise.allSettled(inFlight);
    await saving;
  }
  if (failure) throw failure;

  if (state.entries === 0)
    report({
      entry: -1,
      reason: 'import.skip.noMails',
      params: { format: row.format.toUpperCase() },
    });
  else if (mbox?.ignoredBytes)
    report({ entry: -1, reason: 'import.skip.leadingBytes', params: { bytes: mbox.ignoredBytes } });
  await withTenant(deps.db, tenantId, async (tx) => {
    await recordAudit(tx, tenantId, {
      action: 'import.finished',
      actor: { type: 'system', label: 'import' },
      target: { type: 'import', id: importId },
      details: { ...summary() },
    });
  });
  await save({ status: 'done', finished_at: new Date() });
  await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: row.object_key }));
  return summary();
}

/** Records a failed import (and deletes its upload): the workflow's last word. */
export async function failImport(
  deps: Pick<ImportDeps, 'db' | 's3' | 'bucket'>,
  tenantId: string,
  importId: string,
  error: string,
): Promise<void> {
  const row = await withTenant(deps.db, tenantId, (tx) =>
    tx
      .updateTable('imports')
      .set({ status: 'failed', error: error.slice(0, 500), finished_at: new Date() })
      .where('id', '=', importId)
      .where('status', '=', 'running')
      .returning('object_key')
      .executeTakeFirst(),
  );
  if (row)
    await deps.s3
      .send(new DeleteObjectCommand({ Bucket: deps.bucket, Key: row.object_key }))
      .catch(() => {});
}
