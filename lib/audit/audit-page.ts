import { sql } from 'kysely';
import type { TenantTx } from '../db/tenant-scope';
import { isUuid } from '../input/input-error';
import type { ChainedEvent } from './canonical';
import { actionsOf, type AuditGroup } from './catalogue';
import { chainedFromRow } from './record';

/**
 * One page of a tenant's audit events for the portal (issue 25 §1): newest first, filtered by
 * person, action group, mail and time, paged by sequence number (keyset: a page is as cheap at
 * event 5,000,000 as at the first). Sealed details stay sealed here; an unlocked session opens
 * them for display.
 */

export interface AuditFilter {
  /** A user's id, or every event of operators ('operator') or of the system's jobs ('system'). */
  actor?: string;
  group?: AuditGroup;
  /** A mail's id: its own events and those of exports and restores that decrypted it. */
  mail?: string;
  from?: Date;
  /** Exclusive. */
  to?: Date;
}

export interface AuditCursor {
  /** Events with a lower sequence number (the next, older page)… */
  before?: number;
  /** …or with a higher one (the previous, newer page). */
  after?: number;
}

/** An event as stored (its sealed details still sealed). */
export type AuditRow = ChainedEvent;

export interface AuditPage {
  rows: AuditRow[];
  /** The cursor of the next older page, when there is one. */
  older?: number;
  /** The cursor of the next newer page, when there is one. */
  newer?: number;
}

export const AUDIT_PAGE_SIZE = 50;

export function filtered(tx: TenantTx, tenantId: string, f: AuditFilter) {
  let q = tx.selectFrom('audit_events').where('tenant_id', '=', tenantId);
  if (f.actor === 'operator' || f.actor === 'system') q = q.where('actor_type', '=', f.actor);
  else if (f.actor)
    q = isUuid(f.actor)
      ? q.where('actor_type', '=', 'user').where('actor_id', '=', f.actor)
      : q.where(sql<boolean>`false`);
  if (f.group) q = q.where('action', 'in', actionsOf(f.group));
  if (f.mail)
    q = isUuid(f.mail)
      ? q.where((eb) =>
          eb.or([
            eb.and([eb('target_type', '=', 'message'), eb('target_id', '=', f.mail!)]),
            // `?` on the jsonb array is what the GIN index of migration 0040 answers.
            sql<boolean>`details ? 'messageIds' AND (details -> 'messageIds') ? ${f.mail}`,
          ]),
        )
      : q.where(sql<boolean>`false`);
  if (f.from) q = q.where('at', '>=', f.from);
  if (f.to) q = q.where('at', '<', f.to);
  return q;
}

export async function auditPage(
  tx: TenantTx,
  tenantId: string,
  filter: AuditFilter,
  cursor: AuditCursor = {},
  size = AUDIT_PAGE_SIZE,
): Promise<AuditPage> {
  const newerFirst = cursor.after === undefined;
  let q = filtered(tx, tenantId, filter).selectAll();
  if (cursor.before !== undefined) q = q.where('seq', '<', cursor.before);
  if (cursor.after !== undefined) q = q.where('seq', '>', cursor.after);
  const found = await q
    .orderBy('seq', newerFirst ? 'desc' : 'asc')
    .limit(size + 1)
    .execute();
  const more = found.length > size;
  const page = found.slice(0, size);
  if (!newerFirst) page.reverse();
  const rows: AuditRow[] = page.map(chainedFromRow);
  if (!rows.length) return { rows };
  const first = rows[0]!.seq;
  const last = rows.at(-1)!.seq;
  // Going one way, "more" answers for that side; the other side is looked up (a cursor in a
  // link may name any number).
  const older = newerFirst ? more : await exists(last, '<');
  const newer = newerFirst ? await exists(first, '>') : more;
  return {
    rows,
    ...(older ? { older: last } : {}),
    ...(newer ? { newer: first } : {}),
  };

  async function exists(seq: number, op: '<' | '>') {
    const row = await filtered(tx, tenantId, filter)
      .select('seq')
      .where('seq', op, seq)
      .limit(1)
      .executeTakeFirst();
    return !!row;
  }
}

/**
 * How many events a filter's time range holds (the auditor export takes whole ranges), counted
 * up to `cap + 1` at most: the page asks on every view, and a tenant may have millions.
 */
export async function eventsInRange(
  tx: TenantTx,
  tenantId: string,
  range: Pick<AuditFilter, 'from' | 'to'>,
  cap: number,
): Promise<number> {
  const row = await tx
    .selectFrom(
      filtered(tx, tenantId, { from: range.from, to: range.to })
        .select('seq')
        .limit(cap + 1)
        .as('r'),
    )
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
