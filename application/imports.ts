import { randomBytes, randomUUID } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import busboy from 'busboy';
import type { ImportInput } from '../contracts/import';
import { recordAudit } from '../lib/audit/record';
import type { SessionInfo } from '../lib/auth/sessions';
import { zeroize } from '../lib/crypto/bytes';
import { EncryptStream } from '../lib/crypto/stream';
import type { Db } from '../lib/db';
import { withTenant } from '../lib/db/tenant-scope';
import { StagingUpload } from '../lib/ingest/staging';
import { bind } from '../lib/crypto/bindings';
import { failImport } from '../lib/import/run';
import { startTenantWorkflow } from '../lib/temporal/tenant-workflow';
import { requireManager } from '../lib/auth/roles';
import { InputError } from '../lib/input/input-error';

/**
 * Imports as the portal takes them (issue 9 §5): the upload is streamed from the request through
 * encryption into S3 — its plaintext never touches a disk — under a fresh key that then travels
 * only in the import workflow's input (encrypted by the Temporal codec). Owners and admins only.
 */
export interface ImportDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  temporal: () => Promise<{ client: Client; taskQueue: string }>;
}

export class ImportInputError extends InputError {
  override name = 'ImportInputError';
}

/** 20 GiB: far above any mailbox export we know of, low enough to stop a runaway upload. */
const MAX_UPLOAD_BYTES = 20 * 1024 ** 3;

export const importWorkflowId = (importId: string) => `import-${importId}`;

/** Tells MBOX from ZIP by the first bytes (not the name, which lies often enough). */
function sniff(first: Buffer, filename: string): 'mbox' | 'zip' | undefined {
  if (first.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) return 'zip';
  if (first.subarray(0, 5).toString('latin1') === 'From ') return 'mbox';
  if (/\.(mbox|mbx)$/i.test(filename)) return 'mbox';
  return undefined;
}

/** Passes bytes on, counting them and holding back the start until the format is known. */
class Sniffer extends Transform {
  size = 0;
  private head: Buffer[] = [];
  private headLength = 0;
  format: 'mbox' | 'zip' | undefined;

  constructor(private readonly filename: string) {
    super();
  }

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.format) return cb(null, chunk);
    this.head.push(chunk);
    this.headLength += chunk.length;
    if (this.headLength < 16) return cb();
    return this.decide(cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.format) return cb();
    this.decide(cb);
  }

  private decide(cb: TransformCallback): void {
    if (!this.headLength) return cb(new ImportInputError('imports.error.empty', {}, 'file'));
    const head = Buffer.concat(this.head);
    this.format = sniff(head, this.filename);
    if (!this.format) return cb(new ImportInputError('imports.error.format', {}, 'file'));
    this.head = [];
    cb(null, head);
  }
}

/**
 * Stores one uploaded file: sniffed (MBOX or ZIP), encrypted under a fresh key on its way into S3,
 * then recorded with its `import.created` audit event. Returns the key (for the workflow input
 * only); on any failure nothing remains in S3.
 */
export async function storeImport(
  deps: Pick<ImportDeps, 'db' | 's3' | 'bucket'>,
  who: { tenantId: string; userId: string; ip: string },
  importId: string,
  file: Readable,
  filename: string,
  truncated: () => boolean = () => false,
): Promise<Buffer> {
  const { tenantId } = who;
  const objectKey = `imports/${tenantId}/${importId}`;
  const key = randomBytes(32);
  const sniffer = new Sniffer(filename);
  const upload = new StagingUpload(deps.s3, deps.bucket, objectKey);
  try {
    await pipeline(
      file,
      sniffer,
      new EncryptStream(key, bind.importUpload(tenantId, importId)),
      upload.input,
    );
    await upload.done;
    if (truncated()) throw new ImportInputError('imports.error.tooLarge', {}, 'file');
    await withTenant(deps.db, tenantId, async (tx) => {
      await tx
        .insertInto('imports')
        .values({
          id: importId,
          tenant_id: tenantId,
          created_by: who.userId,
          format: sniffer.format!,
          object_key: objectKey,
          size: sniffer.size,
          error: null,
          finished_at: null,
        })
        .execute();
      await recordAudit(tx, tenantId, {
        action: 'import.created',
        actor: { type: 'user', id: who.userId },
        ip: who.ip,
        target: { type: 'import', id: importId },
        details: { format: sniffer.format!, bytes: sniffer.size },
        sealed: { filename },
      });
    });
    return key;
  } catch (e) {
    zeroize(key);
    await upload.discard();
    throw e;
  }
}

export function createImports(deps: ImportDeps) {
  const { db } = deps;

  /** Stores the form's `file` (see storeImport); other fields and files are ignored. */
  function receive(
    contentType: string,
    body: ReadableStream<Uint8Array>,
    who: { tenantId: string; userId: string; ip: string },
    importId: string,
  ) {
    return new Promise<Buffer>((resolve, reject) => {
      let bb: busboy.Busboy;
      try {
        bb = busboy({
          headers: { 'content-type': contentType },
          limits: { files: 1, fileSize: MAX_UPLOAD_BYTES },
        });
      } catch {
        return reject(new ImportInputError('imports.error.notForm', {}, 'file'));
      }
      let seen = false;
      bb.on('file', (field, file, info) => {
        if (field !== 'file' || seen) return void file.resume();
        seen = true;
        let truncated = false;
        file.on('limit', () => (truncated = true));
        storeImport(deps, who, importId, file, info.filename ?? '', () => truncated).then(
          resolve,
          reject,
        );
      });
      bb.on('close', () => {
        if (!seen) reject(new ImportInputError('imports.error.noFile', {}, 'file'));
      });
      bb.on('error', (e) => reject(e));
      Readable.fromWeb(body as never).pipe(bb);
    });
  }

  return {
    async upload(
      session: SessionInfo,
      input: { ip: string; contentType: string; body: ReadableStream<Uint8Array> },
    ): Promise<string> {
      requireManager(session, 'import');
      const importId = randomUUID();
      const who = { tenantId: session.tenantId, userId: session.userId, ip: input.ip };
      const key = await receive(input.contentType, input.body, who, importId);
      try {
        const t = await deps.temporal();
        const args: ImportInput = {
          tenantId: session.tenantId,
          importId,
          key: key.toString('base64url'),
        };
        await startTenantWorkflow(t, 'importMail', {
          tenantId: session.tenantId,
          workflowId: importWorkflowId(importId),
          args: [args],
        });
        return importId;
      } catch (e) {
        await failImport(deps, session.tenantId, importId, (e as Error).message).catch(() => {});
        throw e;
      } finally {
        zeroize(key);
      }
    },

    async list(session: SessionInfo) {
      requireManager(session, 'import');
      return withTenant(db, session.tenantId, (tx) =>
        tx
          .selectFrom('imports as i')
          .innerJoin('users as u', 'u.id', 'i.created_by')
          .select([
            'i.id',
            'i.format',
            'i.size',
            'i.status',
            'i.bytes_done',
            'i.entries_done',
            'i.archived',
            'i.duplicates',
            'i.malformed',
            'i.problems',
            'i.error',
            'i.created_at',
            'i.finished_at',
            'u.email',
          ])
          .orderBy('i.created_at', 'desc')
          .limit(50)
          .execute(),
      );
    },
  };
}

export type Imports = ReturnType<typeof createImports>;
