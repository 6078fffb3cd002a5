import type { TenantTx } from '../db/tenant-scope';
import type { MailMetadata } from '../ingest/mime-metadata';
import type { IndexedDoc } from './segment-format';

/** A mail's entry in the index, from its metadata (also used to match legal holds at ingest). */
export function indexedDoc(
  id: string,
  row: { size: string | number | bigint; received_at: Date },
  meta: MailMetadata & {
    envelope?: { rcptTo?: string[]; imported?: { originalReceivedAt?: string } };
  },
  ingestAddresses: string[],
): IndexedDoc {
  const header = [...meta.from, ...meta.to, ...meta.cc, ...meta.bcc].map((a) => a.address);
  const envelope = (meta.envelope?.rcptTo ?? []).map((a) => a.toLowerCase());
  const importedAt = meta.envelope?.imported?.originalReceivedAt;
  const original = importedAt ? Date.parse(importedAt) || undefined : undefined;
  return {
    id,
    receivedAt: row.received_at.getTime(),
    size: Number(row.size),
    from: meta.from,
    to: meta.to,
    cc: meta.cc,
    bcc: meta.bcc,
    subject: meta.subject,
    date: meta.date,
    attachments: meta.attachments.map((a) => ({ name: a.filename, size: a.size })),
    // Addresses only: an import's pseudo-recipient ("import") is no mailbox.
    mailboxes: [...new Set([...header, ...envelope, ...ingestAddresses])]
      .map((a) => a.toLowerCase())
      .filter((a) => a.includes('@')),
    ...(meta.parseError ? { parseError: meta.parseError } : {}),
    ...(original ? { originalReceivedAt: original } : {}),
    ...(meta.journal
      ? {
          journal: {
            parts: meta.journal.parts,
            ...(meta.journal.problem ? { problem: meta.journal.problem } : {}),
          },
        }
      : {}),
  };
}

/** Each mail's ingest addresses (lower case): mailboxes its receipts name besides its headers. */
export async function ingestAddresses(tx: TenantTx, ids: string[]): Promise<Map<string, string[]>> {
  const receipts = await tx
    .selectFrom('message_receipts')
    .select(['message_id', 'ingest_address'])
    .where('message_id', 'in', ids)
    .execute();
  const out = new Map<string, string[]>();
  for (const r of receipts) {
    let list = out.get(r.message_id);
    if (!list) out.set(r.message_id, (list = []));
    list.push(r.ingest_address.toLowerCase());
  }
  return out;
}
