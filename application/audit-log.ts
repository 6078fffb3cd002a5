import {
  auditPage,
  eventsInRange,
  type AuditCursor,
  type AuditFilter,
} from '../lib/audit/audit-page';
import { exportAuditLog } from '../lib/audit/export';
import { verifyAuditRange } from '../lib/audit/verify-range';
import type { SessionInfo } from '../lib/auth/sessions';
import type { Db } from '../lib/db';
import { withTenant } from '../lib/db/tenant-scope';
import type { Archive } from './archive';

/**
 * The portal's audit log (issue 25 §1): pages of events with what the viewer may read of them,
 * the chain check of a page, and the auditor export of a filter's time range. Owners, admins and
 * auditors (the route's guard); every call is scoped to the session's tenant.
 */

/** The auditor export is built in memory: larger ranges go through `mailrepo audit export`. */
export const PORTAL_EXPORT_MAX_EVENTS = 200_000;

export interface AuditPerson {
  id: string;
  email: string;
  role: string;
  disabled: boolean;
}

export function createAuditLog(deps: {
  db: Db;
  archive: Pick<Archive, 'auditView'>;
  tsaCaPem: () => string;
}) {
  const { db } = deps;
  return {
    exportMax: PORTAL_EXPORT_MAX_EVENTS,
    /** The tenant's users, for the person filter and to name who did what. */
    people: (session: SessionInfo): Promise<AuditPerson[]> =>
      withTenant(db, session.tenantId, async (tx) =>
        (
          await tx
            .selectFrom('users')
            .select(['id', 'email', 'role', 'disabled_at'])
            .where('tenant_id', '=', session.tenantId)
            .orderBy('email')
            .execute()
        ).map((u) => ({ id: u.id, email: u.email, role: u.role, disabled: !!u.disabled_at })),
      ),

    async page(
      session: SessionInfo,
      cookie: string,
      filter: AuditFilter,
      cursor: AuditCursor,
      ip: string,
    ) {
      const page = await withTenant(db, session.tenantId, (tx) =>
        auditPage(tx, session.tenantId, filter, cursor),
      );
      const mails = page.rows.flatMap((r) => (r.target?.type === 'message' ? [r.target.id] : []));
      if (filter.mail) mails.push(filter.mail);
      const sealed = page.rows.flatMap((r) =>
        r.sealedDetails ? [{ id: r.id, sealedDetails: r.sealedDetails }] : [],
      );
      // Nothing to decrypt (an operator's settings, sign-ins…): the keys stay where they are.
      const view =
        mails.length || sealed.length
          ? await deps.archive.auditView(session, cookie, { mails, sealed }, ip)
          : { mails: new Map<string, never>(), sealed: new Map<string, never>() };
      return {
        older: page.older,
        newer: page.newer,
        range: page.rows.length
          ? { from: page.rows.at(-1)!.seq, to: page.rows[0]!.seq }
          : undefined,
        /** The filtered mail's subject, when the viewer may see it. */
        mail: filter.mail ? view.mails.get(filter.mail) : undefined,
        events: page.rows.map((r) => {
          const { sealedDetails, ...row } = r;
          const mail = r.target?.type === 'message' ? view.mails.get(r.target.id) : undefined;
          return {
            ...row,
            sealed: !!sealedDetails,
            opened: view.sealed.get(r.id),
            mail,
          };
        }),
      };
    },

    /** The chain check of the range a page shows, anchored by the next ledgered head. */
    verify: (session: SessionInfo, range: { from: number; to: number }) =>
      verifyAuditRange(db, {
        tenantId: session.tenantId,
        from: range.from,
        to: range.to,
        tsaCaPem: deps.tsaCaPem(),
      }),

    /** How many events the export of this time range would hold (more than the cap: cap + 1). */
    count: (session: SessionInfo, filter: AuditFilter) =>
      withTenant(db, session.tenantId, (tx) =>
        eventsInRange(tx, session.tenantId, filter, PORTAL_EXPORT_MAX_EVENTS),
      ),

    /** The auditor export of the filter's time range (audited as `audit.exported`). */
    async export(session: SessionInfo, filter: AuditFilter, ip: string) {
      const n = await withTenant(db, session.tenantId, (tx) =>
        eventsInRange(tx, session.tenantId, filter, PORTAL_EXPORT_MAX_EVENTS),
      );
      if (n > PORTAL_EXPORT_MAX_EVENTS) return { kind: 'too-many' as const, events: n };
      const { from, to, ...select } = filter;
      const out = await exportAuditLog(db, {
        tenantId: session.tenantId,
        from,
        to,
        tsaCaPem: deps.tsaCaPem(),
        actor: { type: 'user', id: session.userId },
        ip,
        select,
      });
      return { kind: 'ok' as const, zip: out.zip, events: out.events };
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
