import {
  mailAttachmentText,
  type AttachmentTextStatus,
  type MailAttachmentText,
} from '../lib/search/attachment-text';
import type { S3Client } from '@aws-sdk/client-s3';
import { PassThrough, type Readable } from 'node:stream';
import { journalOriginal } from '../lib/mail/journal-original';
import { arrivalsOf, withOtherArrivals } from '../lib/ingest/journal-group';
import { openAuditDetails } from '../lib/audit/audit-key';
import { recordAudit, type AuditInput } from '../lib/audit/record';
import type { SessionInfo } from '../lib/auth/sessions';
import { unlockedKeys } from '../lib/auth/sessions';
import type { Db } from '../lib/db';
import { withTenant } from '../lib/db/tenant-scope';
import { openMail, type StoredMail } from '../lib/mail/open';
import { renderMailPdf, type ArchiveFacts, type PdfLang } from '../lib/mail/pdf';
import {
  readMailView,
  streamAttachment,
  type AttachmentInfo,
  type MailView,
} from '../lib/mail/read';
import { safeHtml, type SafeHtml } from '../lib/mail/sanitize';
import { buildProofBundle, ProofUnavailableError } from '../lib/proof/build-bundle';
import {
  containsPhrase,
  type SearchIndex,
  type SearchOptions,
  type SortOrder,
} from '../lib/search/engine';
import type { Client } from '@temporalio/client';
import { startIndexMaintenance } from '../lib/search/index-maintenance';
import { mergeAll, queuedForIndex } from '../lib/search/index-store';
import { mailSummary } from '../lib/search/mail-summary';
import { openIndex, withIndex, type TenantIndexes } from '../lib/search/tenant-index';
import { isEmptyQuery, parseQuery, QueryError, type Query } from '../lib/search/query';
import type { IndexedDoc } from '../lib/search/segment-format';
import { snippet, type Snippet } from '../lib/search/snippet';
import { EpochKeyring } from '../lib/vault/epoch-keyring';
import { lock, type UnlockedSession } from '../lib/vault/session';
import { isUuid } from '../lib/input/input-error';
import { startOfDayInGermany } from '../lib/time/german-day';

/**
 * What the portal does with archived mail, for one signed-in user: browse and search the session's
 * decrypted index, open a mail, download its parts and proofs. Every function checks that the mail
 * is visible to the user (in the tenant's index, and for a member in one of their own mailboxes)
 * and answers `undefined` — the route's 404 — otherwise. Every decryption writes its audit event
 * before any plaintext leaves.
 */

export interface ArchiveDeps {
  db: Db;
  s3: S3Client;
  bucket: string;
  tsaCaPem: () => string;
  indexes: TenantIndexes;
  /** Starts index maintenance; undefined (tests, Temporal unreachable) merges in the request. */
  temporal?: () => Promise<{ client: Client; taskQueue: string }>;
  log?: { warn: (obj: object, msg: string) => void };
}

/** At most one start of the maintenance workflow per tenant in this period. */
const MAINTENANCE_START_EVERY_MS = 5_000;

export interface BrowseInput {
  q: string;
  sort?: SortOrder;
  cursor?: string;
  limit?: number;
  ip: string;
}

export type BrowseResult =
  | { kind: 'error'; code: string; params: Record<string, string | number> }
  | {
      kind: 'ok';
      hits: (IndexedDoc & { snippet?: Snippet; snippetSource?: SnippetSource })[];
      total: number;
      /** True when phrase checks stopped early: `total` is an upper bound. */
      approximate: boolean;
      /** False when more matched than were counted: `total` is a lower bound. */
      totalExact: boolean;
      /** Archived mails not yet in the index (being merged). */
      pending: number;
      nextCursor?: string;
    };

/** The attachment a snippet was cut from. */
export interface SnippetSource {
  filename: string;
  page?: number;
}

/** Mails larger than this get no snippet (reading them would slow every result page). */
const SNIPPET_MAX_SIZE = 2 * 1024 * 1024;

const streamToText = async (plain: Readable) => (await readMailView(plain)).text;

export function createArchive(deps: ArchiveDeps) {
  const { db } = deps;

  /** Runs `fn` with the session's keys and an epoch keyring; zeroes both afterwards. */
  async function withKeys<T>(
    session: SessionInfo,
    cookie: string,
    fn: (unlocked: UnlockedSession, keyring: EpochKeyring) => Promise<T>,
  ): Promise<T> {
    const unlocked = await withTenant(db, session.tenantId, (tx) =>
      unlockedKeys(tx, session, cookie),
    );
    const keyring = new EpochKeyring(db, unlocked);
    try {
      return await fn(unlocked, keyring);
    } finally {
      keyring.dispose();
      lock(unlocked);
    }
  }

  const sessionKey = (session: SessionInfo) => session.idHash.toString('hex');
  const maintenanceStarted = new Map<string, number>();

  /**
   * New mails wait in the queue until the maintenance workflow merges them under a grant from
   * this session. Without Temporal the request merges them itself, so the archive stays usable.
   */
  async function maintain(unlocked: UnlockedSession): Promise<{ merge: boolean; pending: number }> {
    const pending = await queuedForIndex(db, unlocked.tenantId);
    if (!pending) return { merge: false, pending };
    if (!deps.temporal) return { merge: true, pending: 0 };
    const last = maintenanceStarted.get(unlocked.tenantId) ?? 0;
    if (Date.now() - last < MAINTENANCE_START_EVERY_MS) return { merge: false, pending };
    maintenanceStarted.set(unlocked.tenantId, Date.now());
    try {
      const t = await deps.temporal();
      await startIndexMaintenance({ db, temporal: t.client, taskQueue: t.taskQueue }, unlocked);
      return { merge: false, pending };
    } catch (err) {
      deps.log?.warn({ err }, 'index maintenance could not start; merging in the request');
      return { merge: true, pending: 0 };
    }
  }

  /** Runs `fn` on the tenant's index, shared with its other sessions (decision 0021). */
  async function withSearch<T>(
    session: SessionInfo,
    unlocked: UnlockedSession,
    keyring: EpochKeyring,
    fn: (idx: SearchIndex, pending: number) => Promise<T>,
  ): Promise<T> {
    const { merge, pending } = await maintain(unlocked);
    if (merge) await mergeAll(db, unlocked, keyring);
    await deps.indexes.enter(session.tenantId, sessionKey(session), { db, keyring });
    return deps.indexes.limit(() =>
      withIndex(
        () => openIndex(db, session.tenantId, keyring, deps.indexes.cache),
        (idx) => fn(idx, pending),
      ),
    );
  }

  /** A member sees the mails of their own address; everyone else the whole tenant. */
  const mailboxScope = (session: SessionInfo) =>
    session.role === 'member' ? [session.email.toLowerCase()] : undefined;

  async function visible(
    session: SessionInfo,
    unlocked: UnlockedSession,
    keyring: EpochKeyring,
    messageId: string,
  ): Promise<IndexedDoc | undefined> {
    if (!isUuid(messageId)) return undefined;
    const doc = await mailSummary(db, unlocked.tenantId, keyring, messageId);
    const scope = mailboxScope(session);
    if (!doc || (scope && !doc.mailboxes.some((m) => scope.includes(m)))) return undefined;
    return doc;
  }

  /**
   * When a mail was deleted at retention end, for whoever may see the whole tenant (a member's
   * mailbox cannot be told any more: the index entry went with the keys).
   */
  async function deletedOn(session: SessionInfo, messageId: string): Promise<Date | undefined> {
    if (mailboxScope(session) || !isUuid(messageId)) return undefined;
    const row = await withTenant(db, session.tenantId, (tx) =>
      tx.selectFrom('messages').select('deleted_at').where('id', '=', messageId).executeTakeFirst(),
    );
    return row?.deleted_at ?? undefined;
  }

  /**
   * The receipts of one logical mail: the same original journaled in several reports, each its
   * own evidence. A member is shown only those that name their mailbox.
   */
  async function arrivals(session: SessionInfo, cookie: string, messageId: string) {
    const all = await withTenant(db, session.tenantId, (tx) => arrivalsOf(tx, messageId));
    if (all.length < 2 || !mailboxScope(session)) return all;
    return withKeys(session, cookie, async (unlocked, keyring) => {
      const seen = await Promise.all(
        all.map(
          async (a) => a.id === messageId || (await visible(session, unlocked, keyring, a.id)),
        ),
      );
      return all.filter((_, i) => seen[i]);
    });
  }

  const audit = (session: SessionInfo, ip: string, input: Omit<AuditInput, 'actor' | 'ip'>) =>
    withTenant(db, session.tenantId, (tx) =>
      recordAudit(tx, session.tenantId, {
        ...input,
        actor: { type: 'user', id: session.userId },
        ip,
      }),
    );

  const mailTarget = (id: string) => ({ type: 'message', id });

  /** What a reader sees of a mail: a journal report's original (issue 22 §2), else the mail. */
  const shown = (doc: IndexedDoc, plain: Readable): Readable =>
    doc.journal?.parts.length ? journalOriginal(plain, doc.journal.parts) : plain;

  /** Audits, then opens the mail's plaintext; undefined when not visible. */
  async function openAudited(
    session: SessionInfo,
    cookie: string,
    messageId: string,
    ip: string,
    event: Omit<AuditInput, 'actor' | 'ip' | 'target'>,
    opts: {
      /** Also what the search holds of its attachments (the mail page), under the same keys. */
      attachmentText?: boolean;
      /** The bytes as received: a journal report stays the report (otherwise: its original). */
      asReceived?: boolean;
    } = {},
  ): Promise<
    | { doc: IndexedDoc; mail: StoredMail; plain: Readable; attachmentText?: MailAttachmentText }
    | undefined
  > {
    return withKeys(session, cookie, async (unlocked, keyring) => {
      const doc = await visible(session, unlocked, keyring, messageId);
      if (!doc) return undefined;
      await audit(session, ip, { ...event, target: mailTarget(messageId) });
      const opened = await openMail(deps, session.tenantId, keyring, messageId);
      if (!opened) return undefined;
      const attachmentText = opts.attachmentText
        ? await mailAttachmentText(deps.db, session.tenantId, keyring, messageId)
        : undefined;
      const plain = opts.asReceived ? opened.plain : shown(doc, opened.plain);
      return { doc, ...opened, plain, attachmentText };
    });
  }

  return {
    async browse(session: SessionInfo, cookie: string, input: BrowseInput): Promise<BrowseResult> {
      let query: Query;
      try {
        query = parseQuery(input.q);
      } catch (e) {
        if (e instanceof QueryError) return { kind: 'error', code: e.code, params: e.params };
        throw e;
      }
      return withKeys(session, cookie, (unlocked, keyring) =>
        withSearch(session, unlocked, keyring, async (idx, pending) => {
          const texts = new Map<string, Promise<string>>();
          const text = (doc: IndexedDoc) => {
            let t = texts.get(doc.id);
            if (!t) {
              t = openMail(deps, session.tenantId, keyring, doc.id).then((o) =>
                o ? streamToText(shown(doc, o.plain)) : '',
              );
              texts.set(doc.id, t);
            }
            return t;
          };
          const options: SearchOptions = {
            sort: input.sort,
            cursor: input.cursor,
            limit: input.limit,
            mailboxes: mailboxScope(session),
            verify: async (doc) => {
              const body = `${doc.subject ?? ''}\n${await text(doc)}`;
              return query.phrases.every((p) => containsPhrase(body, p));
            },
            maxVerify: 300,
          };
          // The event comes first: the listing is a decryption of the index.
          await audit(session, input.ip, {
            action: 'mail.searched',
            details: {
              kind: isEmptyQuery(query) ? 'browse' : 'search',
              sort: input.sort ?? 'newest',
            },
            ...(input.q ? { sealed: { query: input.q } } : {}),
          });
          const result = await idx.search(query, options);
          const words = query.all.filter((t) => t.term.length > 1);
          // A hit's excerpt: from the mail's own text, else (or with in:attachment) from the
          // documents the index job read, naming the file and page it comes from.
          const excerpt = async (doc: IndexedDoc) => {
            const own =
              query.scope !== 'attachment' && doc.size <= SNIPPET_MAX_SIZE
                ? snippet(await text(doc), words)
                : undefined;
            if (own || query.scope === 'body') return own && { snippet: own };
            const documents = await mailAttachmentText(db, session.tenantId, keyring, doc.id);
            for (const part of documents?.texts ?? []) {
              const found = snippet(part.text, words);
              if (found)
                return {
                  snippet: found,
                  snippetSource: {
                    filename: part.filename,
                    ...(part.page ? { page: part.page } : {}),
                  },
                };
            }
            return undefined;
          };
          const hits = await Promise.all(
            result.hits.map(async (doc) =>
              words.length ? { ...doc, ...(await excerpt(doc)) } : doc,
            ),
          );
          return {
            kind: 'ok' as const,
            hits,
            total: result.total,
            totalExact: result.totalExact,
            approximate: query.phrases.length > 0,
            nextCursor: result.nextCursor,
            pending,
          };
        }),
      );
    },

    /**
     * A member's home (issue 20 §4): how many mails their mailbox holds, how many came today
     * (since midnight in Germany) and when the newest came — from the index, so it is a
     * decryption and audited as one.
     */
    async mailboxOverview(session: SessionInfo, cookie: string, ip: string) {
      return withKeys(session, cookie, (unlocked, keyring) =>
        withSearch(session, unlocked, keyring, async (idx, pending) => {
          await audit(session, ip, { action: 'mail.searched', details: { kind: 'overview' } });
          const mailboxes = mailboxScope(session);
          const all = await idx.search(parseQuery(''), {
            mailboxes,
            limit: 1,
            exactUpTo: Infinity,
          });
          const today = await idx.search(
            { ...parseQuery(''), after: startOfDayInGermany(new Date()) },
            { mailboxes, limit: 1, exactUpTo: Infinity },
          );
          return {
            mails: all.total,
            today: today.total,
            lastReceivedAt: all.hits[0] ? new Date(all.hits[0].receivedAt) : null,
            pendingIndex: pending,
          };
        }),
      );
    },

    /** A mail's headers, text and attachment list (the HTML itself is served by `body`). */
    async view(
      session: SessionInfo,
      cookie: string,
      messageId: string,
      ip: string,
    ): Promise<
      | {
          doc: IndexedDoc;
          mail: StoredMail;
          view: Omit<MailView, 'html'> & { hasHtml: boolean; blockedImages: number };
          /** What the search holds of each attachment, by index. */
          attachmentText: AttachmentTextStatus[];
          /** …and of documents inside forwarded mails, under the forward's index. */
          nestedText: { index: number; filename: string; status: AttachmentTextStatus }[];
          /** Every arrival of this logical mail (decision 0029) the user may see, this one too. */
          arrivals: { id: string; receivedAt: Date }[];
        }
      | undefined
    > {
      const opened = await openAudited(
        session,
        cookie,
        messageId,
        ip,
        { action: 'mail.viewed', details: { part: 'message' } },
        { attachmentText: true },
      );
      if (!opened) return undefined;
      const { html, ...view } = await readMailView(opened.plain);
      const blockedImages = html
        ? safeHtml(html, { cidUrl: () => '', allowRemoteImages: false }).blockedImages
        : 0;
      const text = opened.attachmentText;
      return {
        doc: opened.doc,
        mail: opened.mail,
        view: { ...view, hasHtml: !!html, blockedImages },
        attachmentText: text?.status ?? [],
        nestedText: text?.nested ?? [],
        arrivals: await arrivals(session, cookie, messageId),
      };
    },

    /** The mail's HTML, sanitised, for the sandboxed frame. */
    async body(
      session: SessionInfo,
      cookie: string,
      messageId: string,
      input: { ip: string; allowRemoteImages: boolean; cidUrl: (cid: string) => string },
    ): Promise<SafeHtml | undefined> {
      const opened = await openAudited(session, cookie, messageId, input.ip, {
        action: 'mail.viewed',
        details: { part: 'html', remoteImages: input.allowRemoteImages },
      });
      if (!opened) return undefined;
      const view = await readMailView(opened.plain);
      return safeHtml(view.html ?? '', input);
    },

    /** The original bytes as received, decrypted as a stream. */
    async original(session: SessionInfo, cookie: string, messageId: string, ip: string) {
      const opened = await openAudited(
        session,
        cookie,
        messageId,
        ip,
        { action: 'mail.original_downloaded' },
        { asReceived: true },
      );
      return opened && { mail: opened.mail, doc: opened.doc, stream: opened.plain };
    },

    /** One attachment (by position, or an inline image by Content-ID) as a stream. */
    async attachment(
      session: SessionInfo,
      cookie: string,
      messageId: string,
      which: { index: number } | { cid: string },
      ip: string,
    ): Promise<{ info: Omit<AttachmentInfo, 'size' | 'sha256'>; stream: Readable } | undefined> {
      const opened = await openAudited(session, cookie, messageId, ip, {
        action: 'mail.attachment_downloaded',
        details: 'index' in which ? { index: which.index } : { inline: true },
      });
      if (!opened) return undefined;
      return new Promise((resolve, reject) => {
        const out = new PassThrough();
        streamAttachment(opened.plain, which, async (info, content) => {
          resolve({ info, stream: out });
          content.pipe(out);
          await new Promise((done) => out.on('finish', done).on('close', done));
        }).then((found) => {
          if (!found) resolve(undefined);
        }, reject);
      });
    },

    /**
     * Every mail the query finds (no member scope: holds are set by owners and admins). Phrases
     * are not checked against the text, so the set errs on the side of more mail.
     */
    async holdMatches(session: SessionInfo, cookie: string, q: string): Promise<string[]> {
      const query = parseQuery(q);
      const ids = await withKeys(session, cookie, (unlocked, keyring) =>
        withSearch(session, unlocked, keyring, (idx) => idx.ids(query)),
      );
      // A search shows each logical mail once; the hold must keep every report of it.
      return withTenant(db, session.tenantId, (tx) => withOtherArrivals(tx, ids));
    },

    /**
     * What the audit page may show of the events it lists (issue 25 §1), decrypted in this
     * session for display and never stored: the subject and attachment names of each named mail
     * the user may see, and the events' sealed details (search terms). Reading the subjects
     * decrypts the mails' metadata, so it is audited like a listing.
     */
    async auditView(
      session: SessionInfo,
      cookie: string,
      input: { mails: string[]; sealed: { id: string; sealedDetails: Buffer }[] },
      ip: string,
    ) {
      return withKeys(session, cookie, async (unlocked, keyring) => {
        const mails = new Map<string, { subject: string | null; attachments: (string | null)[] }>();
        for (const id of new Set(input.mails)) {
          const doc = await visible(session, unlocked, keyring, id);
          if (doc)
            mails.set(id, {
              subject: doc.subject,
              attachments: doc.attachments.map((a) => a.name),
            });
        }
        const sealed = new Map<string, Record<string, unknown>>();
        if (input.sealed.length)
          await withTenant(db, session.tenantId, async (tx) => {
            for (const e of input.sealed) {
              const opened = await openAuditDetails(tx, unlocked, {
                id: e.id,
                sealed_details: e.sealedDetails,
              });
              if (opened) sealed.set(e.id, opened);
            }
          });
        if (mails.size)
          await audit(session, ip, {
            action: 'mail.searched',
            details: { kind: 'audit-log', mails: mails.size },
          });
        return { mails, sealed };
      });
    },

    deletedOn,

    /** The proof bundle of a visible mail (no decryption: hashes and signatures only). */
    async proof(session: SessionInfo, cookie: string, messageId: string, ip: string) {
      const doc = await withKeys(session, cookie, (unlocked, keyring) =>
        visible(session, unlocked, keyring, messageId),
      );
      // A deleted mail's entry still verifies: its proof stays available to those who saw it all.
      if (!doc && !(await deletedOn(session, messageId))) return undefined;
      const mail = await withTenant(db, session.tenantId, (tx) =>
        tx.selectFrom('messages').select('sha256').where('id', '=', messageId).executeTakeFirst(),
      );
      if (!mail) return undefined;
      try {
        const bundle = await buildProofBundle(db, {
          tenantId: session.tenantId,
          entrySha256: mail.sha256,
          tsaCaPem: deps.tsaCaPem(),
        });
        await audit(session, ip, {
          action: 'mail.proof_downloaded',
          target: mailTarget(messageId),
        });
        return { kind: 'ok' as const, zip: bundle.zip };
      } catch (e) {
        if (e instanceof ProofUnavailableError) return { kind: 'pending' as const };
        throw e;
      }
    },

    /** The mail as a PDF (optionally AES-256 protected), with its archive facts. */
    async pdf(
      session: SessionInfo,
      cookie: string,
      messageId: string,
      input: { ip: string; lang: PdfLang; password?: string },
    ) {
      const opened = await openAudited(session, cookie, messageId, input.ip, {
        action: 'mail.pdf_downloaded',
        details: { passwordProtected: !!input.password },
      });
      if (!opened) return undefined;
      const view = await readMailView(opened.plain);
      const { mail } = opened;
      let proof: ArchiveFacts['proof'];
      try {
        proof = (
          await buildProofBundle(db, {
            tenantId: session.tenantId,
            entrySha256: mail.sha256,
            tsaCaPem: deps.tsaCaPem(),
          })
        ).manifest;
      } catch (e) {
        if (!(e instanceof ProofUnavailableError)) throw e;
      }
      const facts: ArchiveFacts = {
        messageId: mail.id,
        receivedAt: mail.receivedAt,
        sha256: mail.sha256.toString('hex'),
        size: mail.size,
        ledgerIndex: mail.ledgerIndex,
        proof,
      };
      return {
        mail,
        stream: renderMailPdf({ view, facts, lang: input.lang, password: input.password }),
      };
    },

    /** The session ends (logout): its tenant's decrypted index goes with its last session. */
    forget(session: SessionInfo): void {
      deps.indexes.leave(sessionKey(session));
    },
  };
}

export type Archive = ReturnType<typeof createArchive>;
