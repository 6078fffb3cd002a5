import { readFileSync } from 'node:fs';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { buildProofBundle, ProofUnavailableError } from '../proof/build-bundle';
import { filtered, type AuditFilter } from './audit-page';
import { canonicalEvent, chainPreimage } from './canonical';
import { chainedFromRow, eventsBetween, recordAudit, type Actor } from './record';

/**
 * The auditor export (issue 5 §6): a tenant's audit events in a time range as JSON and CSV with
 * their chain hashes, plus, for every chain head anchored in the ledger within the range and the
 * first one after it, the head's preimage and its proof bundle. With `verify-audit.py` an auditor
 * checks that the range is complete and unaltered, and with each bundle when the heads were
 * timestamped. Sealed details stay sealed (they are readable in an unlocked portal session).
 */

export interface AuditExport {
  zip: Uint8Array;
  events: number;
  anchors: { seq: number; bundle: boolean }[];
}

const CSV_COLUMNS = [
  'seq', 'at', 'action', 'actor_type', 'actor_id', 'actor_label', 'target_type', 'target_id',
  'ip', 'details', 'sealed_details', 'prev_hash', 'hash',
] as const; // prettier-ignore

/** RFC 4180 quoting; a leading formula character is kept verbatim inside quotes (JSON is canonical). */
const csvField = (v: string | number | null): string => {
  const s = v === null ? '' : String(v);
  return /[",\r\n=+\-@\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export async function exportAuditLog(
  db: Db,
  input: {
    tenantId: string;
    from?: Date;
    to?: Date;
    tsaCaPem: string;
    actor: Actor;
    ip?: string;
    /**
     * The portal's other filters (person, group, mail): the export still holds the whole time
     * range — only a complete range can be checked — and marks the events they select.
     */
    select?: Omit<AuditFilter, 'from' | 'to'>;
  },
): Promise<AuditExport> {
  const { tenantId } = input;
  const select =
    input.select && Object.values(input.select).some(Boolean) ? input.select : undefined;
  const { rows, anchors, first, last, selected } = await withTenant(db, tenantId, async (tx) => {
    let q = tx.selectFrom('audit_events').select('seq').where('tenant_id', '=', tenantId);
    if (input.from) q = q.where('at', '>=', input.from);
    if (input.to) q = q.where('at', '<', input.to);
    const bounds = await q.orderBy('seq').execute();
    const first = bounds[0] ? Number(bounds[0].seq) : 1;
    const last = bounds.at(-1) ? Number(bounds.at(-1)!.seq) : 0;
    // Context that makes the range checkable: from the last anchored head before it, and up to
    // the first anchored head at or after its end — both timestamped through their bundles.
    const before = await tx
      .selectFrom('audit_anchors')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('seq', '<', first)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    const anchors = await tx
      .selectFrom('audit_anchors')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('seq', '>=', first)
      .orderBy('seq')
      .execute();
    const closing = anchors.findIndex((a) => Number(a.seq) >= last);
    const used = [
      ...(before ? [before] : []),
      ...anchors.slice(0, closing < 0 ? undefined : closing + 1),
    ];
    const from = before ? Number(before.seq) : first;
    const to = closing < 0 ? last : Math.max(last, Number(anchors[closing]!.seq));
    const rows = await eventsBetween(tx, tenantId, from, to);
    const selected =
      select &&
      new Set(
        (
          await filtered(tx, tenantId, { ...select, from: input.from, to: input.to })
            .select('seq')
            .execute()
        ).map((r) => Number(r.seq)),
      );
    await recordAudit(tx, tenantId, {
      action: 'audit.exported',
      actor: input.actor,
      ...(input.ip ? { ip: input.ip } : {}),
      details: {
        from: input.from?.toISOString() ?? null,
        to: input.to?.toISOString() ?? null,
        events: last - first + 1,
        ...(select ? { selected: selected!.size, filter: { ...select } } : {}),
      },
    });
    return { rows, anchors: used, first, last, selected };
  });

  const files: Record<string, Uint8Array> = {};
  const json = rows.map((r) => ({
    seq: Number(r.seq),
    inRange: Number(r.seq) >= first && Number(r.seq) <= last,
    ...(selected ? { selected: selected.has(Number(r.seq)) } : {}),
    id: r.id,
    at: r.at.toISOString(),
    action: r.action,
    actor: { type: r.actor_type, id: r.actor_id, label: r.actor_label },
    target: r.target_type ? { type: r.target_type, id: r.target_id } : null,
    ip: r.ip,
    details: r.details,
    sealedDetails: r.sealed_details?.toString('base64') ?? null,
    canonical: canonicalEvent(chainedFromRow(r)),
    prevHash: r.prev_hash.toString('hex'),
    hash: r.hash.toString('hex'),
  }));
  files['events.json'] = strToU8(`${JSON.stringify(json, null, 2)}\n`);
  files['events.csv'] = strToU8(
    [
      CSV_COLUMNS.join(','),
      ...rows.map(
        (r) =>
        [
          Number(r.seq), r.at.toISOString(), r.action, r.actor_type, r.actor_id, r.actor_label,
          r.target_type, r.target_id, r.ip, JSON.stringify(r.details),
          r.sealed_details?.toString('base64') ?? null, r.prev_hash.toString('hex'),
          r.hash.toString('hex'),
        ].map(csvField).join(','), // prettier-ignore
      ),
    ].join('\r\n') + '\r\n',
  );

  const anchorList: AuditExport['anchors'] = [];
  for (const anchor of anchors) {
    const seq = Number(anchor.seq);
    const event = rows.find((r) => Number(r.seq) === seq)!;
    files[`anchors/${seq}.preimage`] = chainPreimage(event.prev_hash, chainedFromRow(event));
    try {
      const bundle = await buildProofBundle(db, {
        tenantId,
        entrySha256: anchor.hash,
        tsaCaPem: input.tsaCaPem,
      });
      files[`anchors/${seq}.zip`] = bundle.zip;
      anchorList.push({ seq, bundle: true });
    } catch (e) {
      if (!(e instanceof ProofUnavailableError)) throw e;
      anchorList.push({ seq, bundle: false });
    }
  }
  files['anchors.json'] = strToU8(
    `${JSON.stringify(
      anchors.map((anchor, i) => ({
        seq: Number(anchor.seq),
        hash: anchor.hash.toString('hex'),
        ledgerIndex: Number(anchor.ledger_index),
        proofBundle: anchorList[i]!.bundle ? `anchors/${Number(anchor.seq)}.zip` : null,
      })),
      null,
      2,
    )}\n`,
  );
  files['manifest.json'] = strToU8(
    `${JSON.stringify(
      {
        format: 'mailrepo-audit-export/v1',
        tenantId,
        from: input.from?.toISOString() ?? null,
        to: input.to?.toISOString() ?? null,
        firstSeq: first,
        lastSeq: last,
        ...(select ? { selection: { ...select } } : {}),
      },
      null,
      2,
    )}\n`,
  );
  const assets = path.join(__dirname, 'assets');
  files['verify-audit.py'] = readFileSync(path.join(assets, 'verify-audit.py'));
  files['README.md'] = readFileSync(path.join(assets, 'AUDIT-EXPORT.md'));
  return { zip: zipSync(files), events: Math.max(0, last - first + 1), anchors: anchorList };
}
