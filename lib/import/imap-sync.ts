import { Readable } from 'node:stream';
import type { ImapFlow } from 'imapflow';
import { recordAudit } from '../audit/record';
import { withTenant } from '../db/tenant-scope';
import { receiveMail, type IngestDeps } from '../ingest/receive';
import { normalizeAddress } from '../input/address';
import { connectImap, type ImapAccount } from './imap-account';

/**
 * One pass over an IMAP account (issue 22 §3): every selectable folder, each mail after the
 * folder's checkpoint through the ingest path (same encryption, ledger and duplicates by SHA-256),
 * with the folder path kept with the receipt and the server's INTERNALDATE as the original receipt
 * time. The checkpoint (UIDVALIDITY, last UID archived) is saved as mails are archived, so a
 * retried pass resumes and a continuous import fetches only what is new. A folder that fails is
 * recorded with its error and the pass goes on with the next one.
 */

export interface ImapSyncDeps extends IngestDeps {
  maxMessageBytes: number;
}

export interface ImapSyncSummary {
  folders: number;
  archived: number;
  duplicates: number;
  skipped: number;
  failedFolders: number;
}

/** UIDs fetched with their sources at once: bounded memory per batch of mails. */
const BATCH = 25;

export async function syncImapAccount(
  deps: ImapSyncDeps,
  input: { tenantId: string; importId: string; account: ImapAccount },
  progress: () => void = () => {},
): Promise<ImapSyncSummary> {
  const { tenantId, importId } = input;
  const summary: ImapSyncSummary = {
    folders: 0,
    archived: 0,
    duplicates: 0,
    skipped: 0,
    failedFolders: 0,
  };
  const client = await connectImap(input.account);
  try {
    const folders = (await client.list()).filter((f) => !f.flags.has('\\Noselect'));
    for (const folder of folders) {
      summary.folders++;
      try {
        await syncFolder(deps, client, input, folder.path, summary, progress);
        await setFolder(deps, input, folder.path, { error: null });
      } catch (e) {
        // Only the server's refusal of this folder is the folder's error. Anything else (the
        // connection gone, the archive unavailable, the activity cancelled) ends the pass, which
        // is retried and resumes at the checkpoints.
        if (!folderRefused(e) || !client.usable) throw e;
        summary.failedFolders++;
        await setFolder(deps, input, folder.path, {
          error: (e instanceof Error ? e.message : String(e)).slice(0, 500),
        });
      }
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  await withTenant(deps.db, tenantId, (tx) =>
    tx
      .updateTable('imap_imports')
      .set({ last_sync_at: new Date() })
      .where('id', '=', importId)
      .execute(),
  );
  return summary;
}

/** The server answered NO/BAD to a command on the folder (or it could not be opened). */
const folderRefused = (e: unknown) =>
  e instanceof FolderError ||
  typeof (e as { responseStatus?: unknown }).responseStatus === 'string';

class FolderError extends Error {
  override name = 'FolderError';
}

type FolderChange = Partial<{
  uid_validity: string;
  last_uid: string;
  error: string | null;
  archived: number;
  duplicates: number;
  skipped: number;
}>;

async function setFolder(
  deps: ImapSyncDeps,
  input: { tenantId: string; importId: string },
  path: string,
  change: FolderChange,
) {
  await withTenant(deps.db, input.tenantId, (tx) =>
    tx
      .insertInto('imap_import_folders')
      .values({ import_id: input.importId, tenant_id: input.tenantId, path, error: null })
      .onConflict((oc) => oc.columns(['import_id', 'path']).doNothing())
      .execute()
      .then(() =>
        Object.keys(change).length
          ? tx
              .updateTable('imap_import_folders')
              .set(change)
              .where('import_id', '=', input.importId)
              .where('path', '=', path)
              .execute()
          : undefined,
      ),
  );
}

async function syncFolder(
  deps: ImapSyncDeps,
  client: ImapFlow,
  input: { tenantId: string; importId: string; account: ImapAccount },
  path: string,
  summary: ImapSyncSummary,
  progress: () => void,
) {
  const { tenantId, importId } = input;
  await setFolder(deps, input, path, {});
  const saved = await withTenant(deps.db, tenantId, (tx) =>
    tx
      .selectFrom('imap_import_folders')
      .selectAll()
      .where('import_id', '=', importId)
      .where('path', '=', path)
      .executeTakeFirstOrThrow(),
  );
  const lock = await client.getMailboxLock(path, { readOnly: true });
  try {
    const box = client.mailbox;
    if (!box) throw new FolderError(`folder ${path} could not be opened`);
    const validity = box.uidValidity.toString();
    // A new UIDVALIDITY renumbers the folder: read it all again (archived mails are duplicates).
    let lastUid = saved.uid_validity === validity ? Number(saved.last_uid) : 0;
    const counts = {
      archived: saved.archived,
      duplicates: saved.duplicates,
      skipped: saved.skipped,
    };
    /** One mail's outcome, in the folder's counts and the pass's. */
    const count = (what: 'archived' | 'duplicates' | 'skipped') => {
      counts[what]++;
      summary[what]++;
    };
    if (saved.uid_validity !== validity)
      await setFolder(deps, input, path, { uid_validity: validity, last_uid: '0' });
    if (box.exists === 0 || box.uidNext <= lastUid + 1) return;
    // UIDs and sizes first: an oversize mail is skipped without downloading it.
    const pending: { uid: number; size: number }[] = [];
    for await (const m of client.fetch(
      `${lastUid + 1}:*`,
      { uid: true, size: true },
      { uid: true },
    ))
      if (m.uid > lastUid) pending.push({ uid: m.uid, size: m.size ?? 0 });
    pending.sort((a, b) => a.uid - b.uid);
    const mailbox = normalizeAddress(input.account.user);
    for (let i = 0; i < pending.length; i += BATCH) {
      const batch = pending.slice(i, i + BATCH);
      const wanted = batch.filter((m) => m.size <= deps.maxMessageBytes);
      const sources = new Map<number, { source: Buffer; internalDate?: Date }>();
      if (wanted.length)
        for await (const m of client.fetch(
          wanted.map((m) => m.uid).join(','),
          { uid: true, source: true, internalDate: true },
          { uid: true },
        ))
          if (m.source)
            sources.set(m.uid, {
              source: m.source,
              internalDate: m.internalDate ? new Date(m.internalDate) : undefined,
            });
      for (const m of batch) {
        const got = sources.get(m.uid);
        if (!got || !got.source.length) count('skipped');
        else {
          const outcomes = await receiveMail(deps, Readable.from([got.source]), {
            mailFrom: '',
            recipients: [{ address: mailbox ?? 'import', tenantId }],
            imported: {
              importId,
              entry: m.uid,
              name: path,
              folder: path,
              ...(got.internalDate && !Number.isNaN(got.internalDate.getTime())
                ? { originalReceivedAt: got.internalDate.toISOString() }
                : {}),
            },
          });
          const o = outcomes.get(tenantId)!;
          if (!o.ok && o.code < 500)
            // Temporarily unavailable: the pass is retried from this mail on.
            throw Object.assign(new Error(`archiving UID ${m.uid} failed for now: ${o.text}`), {
              retry: true,
            });
          count(!o.ok ? 'skipped' : o.duplicate ? 'duplicates' : 'archived');
        }
        lastUid = m.uid;
      }
      await setFolder(deps, input, path, { last_uid: String(lastUid), ...counts });
      progress();
    }
  } finally {
    lock.release();
  }
}

/** Records how an IMAP import ended (or that it now watches for new mail), audited. */
export async function finishImapImport(
  deps: Pick<IngestDeps, 'db'>,
  input: {
    tenantId: string;
    importId: string;
    status: 'done' | 'failed' | 'watching';
    error?: string;
  },
): Promise<void> {
  await withTenant(deps.db, input.tenantId, async (tx) => {
    const row = await tx
      .updateTable('imap_imports')
      .set({
        status: input.status,
        error: input.error?.slice(0, 500) ?? null,
        ...(input.status === 'watching' ? {} : { finished_at: new Date() }),
      })
      .where('id', '=', input.importId)
      .where('status', 'in', ['running', 'watching'])
      .returning('status')
      .executeTakeFirst();
    if (row && input.status !== 'watching')
      await recordAudit(tx, input.tenantId, {
        action: 'import.finished',
        actor: { type: 'system', label: 'imap-import' },
        target: { type: 'import', id: input.importId },
        details: { source: 'imap', status: input.status },
      });
  });
}
