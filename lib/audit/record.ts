import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { sealTo } from '../crypto/sealed-box';
import type { Database } from '../db';
import { auditDetailsBinding, auditPublicKey } from './audit-key';
import type { AuditAction } from './catalogue';
import { canonicalJson, chainHash, GENESIS, type ChainedEvent } from './canonical';

/**
 * The one audit helper. Call it with the transaction that performs the action: the event commits
 * or rolls back with it. Events of a tenant are serialised on its chain head row, so the chain
 * has no fork and no gap.
 */

type Tx = Transaction<Database>;

export type Actor =
  | { type: 'user'; id: string; label?: string }
  | { type: 'operator'; label: string }
  | { type: 'system'; label?: string };

export interface AuditInput {
  action: AuditAction;
  actor: Actor;
  target?: { type: string; id: string };
  ip?: string;
  /** Stored in clear: ids, counts, old → new setting values. Never secrets or mail content. */
  details?: Record<string, unknown>;
  /** Content-derived details (search terms…): sealed to the tenant's audit key. */
  sealed?: Record<string, unknown>;
}

export interface RecordedEvent {
  id: string;
  seq: number;
  hash: Buffer;
}

export async function recordAudit(
  tx: Tx,
  tenantId: string,
  input: AuditInput,
): Promise<RecordedEvent> {
  const [recorded] = await recordAuditEvents(tx, tenantId, [input]);
  return recorded!;
}

/**
 * Several events chained in order under one lock of the head row, written with one insert: what a
 * batch of archived mails costs the chain is one round trip, not four per mail.
 */
export async function recordAuditEvents(
  tx: Tx,
  tenantId: string,
  inputs: AuditInput[],
): Promise<RecordedEvent[]> {
  if (!inputs.length) return [];
  await sql`INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (${tenantId}, 0, ${GENESIS})
            ON CONFLICT (tenant_id) DO NOTHING`.execute(tx);
  const head = await tx
    .selectFrom('audit_heads')
    .select(['seq', 'hash'])
    .where('tenant_id', '=', tenantId)
    .forUpdate()
    .executeTakeFirstOrThrow();

  let seq = Number(head.seq);
  let prev = head.hash;
  const rows = [];
  const recorded: RecordedEvent[] = [];
  for (const input of inputs) {
    const id = randomUUID();
    const details = input.details ?? {};
    canonicalJson(details); // refuses what cannot be hashed back identically, before anything is written
    const sealedDetails = input.sealed
      ? sealTo(
          await auditPublicKey(tx, tenantId),
          auditDetailsBinding(tenantId, id),
          Buffer.from(canonicalJson(input.sealed), 'utf8'),
        )
      : null;
    const event: ChainedEvent = {
      tenantId,
      seq: ++seq,
      id,
      at: new Date(),
      action: input.action,
      actor: {
        type: input.actor.type,
        id: input.actor.type === 'user' ? input.actor.id : null,
        label: input.actor.label ?? null,
      },
      target: input.target ?? null,
      ip: input.ip ?? null,
      details,
      sealedDetails,
    };
    const hash = chainHash(prev, event);
    rows.push({
      tenant_id: tenantId,
      seq: event.seq,
      id,
      at: event.at,
      action: event.action,
      actor_type: input.actor.type,
      actor_id: event.actor.id,
      actor_label: event.actor.label,
      target_type: event.target?.type ?? null,
      target_id: event.target?.id ?? null,
      ip: event.ip,
      details: JSON.stringify(details),
      sealed_details: sealedDetails,
      prev_hash: prev,
      hash,
    });
    recorded.push({ id, seq: event.seq, hash });
    prev = hash;
  }
  await tx.insertInto('audit_events').values(rows).execute();
  await tx
    .updateTable('audit_heads')
    .set({ seq, hash: prev })
    .where('tenant_id', '=', tenantId)
    .execute();
  return recorded;
}

/** A tenant's stored events from one sequence number to another (inclusive), in chain order. */
export const eventsBetween = (tx: Tx, tenantId: string, from: number, to: number) =>
  tx
    .selectFrom('audit_events')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('seq', '>=', from)
    .where('seq', '<=', to)
    .orderBy('seq')
    .execute();

/** The stored row of an event, as the chain hash sees it. */
export function chainedFromRow(r: {
  tenant_id: string;
  seq: number;
  id: string;
  at: Date;
  action: string;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  sealed_details: Buffer | null;
}): ChainedEvent {
  return {
    tenantId: r.tenant_id,
    seq: Number(r.seq),
    id: r.id,
    at: r.at,
    action: r.action,
    actor: { type: r.actor_type, id: r.actor_id, label: r.actor_label },
    target: r.target_type !== null ? { type: r.target_type, id: r.target_id ?? '' } : null,
    ip: r.ip,
    details: r.details,
    sealedDetails: r.sealed_details,
  };
}
