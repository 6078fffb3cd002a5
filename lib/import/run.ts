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

  async function handle(e: Entry): Promise<void> {
    if (e.index < row.entries_done) return; // done before a retry
    const problem = e.problem ?? entryProblem(e.bytes!, deps.maxMessageBytes);
    if (problem) report({ entry: e.index, ...(e.name ? { name: e.name } : {}), ...problem });
    else {
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
      if (o.ok) {
        if (o.duplicate) state.duplicates++;
        else state.archived++;
      } else if (o.code >= 500)
        report({
          entry: e.index,
          ...(e.name ? { name: e.name } : {}),
          ...(o.code === 552 ? tooLarge(deps.maxMessageBytes) : { reason: 'import.skip.refused' }),
        });
      // Temporarily unavailable (S3, database): the activity's retry resumes at this entry.
      else throw new Error(`archiving entry ${e.index} failed for now: ${o.text}`);
    }
    state.entries = e.index + 1;
    await save();
    progress();
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
  for await (const chunk of plain as AsyncIterable<Buffer>) {
    for (const e of split(chunk, false)) await handle(e);
    state.bytes += chunk.length;
  }
  for (const e of split(Buffer.alloc(0), true)) await handle(e);

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
