import { domainToASCII } from 'node:url';
import type { Db } from '../db';
import { withTenant } from '../db/tenant-scope';
import { InputError } from '../input/input-error';
import { recordAudit, type Actor } from '../audit/record';

/**
 * A tenant's rule for SMTP journal mail (issue 22 §1): the DKIM domains it must be signed by, so
 * that someone who learned a journal address still cannot place mail in the archive. Empty: no
 * check (the results are recorded all the same). Changes are audited old → new.
 */

export const MAX_DKIM_DOMAINS = 50;
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})+$`);

/** One domain per line or separated by commas or spaces; IDNs as their ASCII form. */
export function parseDkimDomains(raw: string): string[] {
  const parts = raw
    .split(/[\s,;]+/)
    .map((p) => p.trim().toLowerCase().replace(/^@/, '').replace(/\.$/, ''))
    .filter(Boolean);
  if (parts.length > MAX_DKIM_DOMAINS)
    throw new InputError('journal.error.tooManyDomains', { max: MAX_DKIM_DOMAINS }, 'domains');
  const out: string[] = [];
  for (const p of parts) {
    // Letters, digits, dots and hyphens only: domainToASCII would cut a "/path" off silently.
    const ascii = /^[\p{L}\p{N}.-]+$/u.test(p) ? domainToASCII(p) : '';
    if (!ascii || !DOMAIN.test(ascii))
      throw new InputError('journal.error.domain', { domain: p.slice(0, 80) }, 'domains');
    if (!out.includes(ascii)) out.push(ascii);
  }
  return out.sort();
}

export async function journalDkimDomains(db: Db, tenantId: string): Promise<string[]> {
  return withTenant(db, tenantId, async (tx) => {
    const row = await tx
      .selectFrom('tenants')
      .select('journal_dkim_domains')
      .where('id', '=', tenantId)
      .executeTakeFirstOrThrow();
    return row.journal_dkim_domains;
  });
}

export async function changeJournalDkimDomains(
  db: Db,
  who: { tenantId: string; actor: Actor; ip?: string },
  domains: string[],
): Promise<void> {
  await withTenant(db, who.tenantId, async (tx) => {
    const before = await tx
      .selectFrom('tenants')
      .select('journal_dkim_domains')
      .where('id', '=', who.tenantId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (before.journal_dkim_domains.join(',') === domains.join(',')) return;
    await tx
      .updateTable('tenants')
      .set({ journal_dkim_domains: domains })
      .where('id', '=', who.tenantId)
      .execute();
    await recordAudit(tx, who.tenantId, {
      action: 'setting.changed',
      actor: who.actor,
      ip: who.ip,
      target: { type: 'setting', id: 'journal_dkim_domains' },
      details: { from: before.journal_dkim_domains, to: domains },
    });
  });
}
