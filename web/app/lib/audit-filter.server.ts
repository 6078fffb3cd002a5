import type { AuditCursor, AuditFilter } from '../../../lib/audit/audit-page';
import { AUDIT_GROUPS, type AuditGroup } from '../../../lib/audit/catalogue';
import { isUuid } from '../../../lib/input/input-error';
import { startOfDayInGermany } from '../../../lib/time/german-day';

/**
 * The audit page's filter as its URL carries it (a GET form, so a filtered view is a link an
 * auditor can keep): person, area, mail, Berlin calendar days from–to, and the page cursor. A
 * value that is not one of ours is named, not guessed at.
 */

export interface AuditQuery {
  filter: AuditFilter;
  cursor: AuditCursor;
  /** The values as the form shows them again. */
  form: { actor: string; group: string; mail: string; from: string; to: string };
  problem?: string;
}

/** The areas the filter offers, in the order the page lists them. */
export const AUDIT_GROUP_LIST: AuditGroup[] = [...AUDIT_GROUPS];

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Midnight in Berlin starting the day `YYYY-MM-DD` (plus `days`), or undefined for no day. */
function berlinMidnight(day: string, days = 0): Date | undefined {
  const m = DAY.exec(day);
  if (!m) return undefined;
  const noon = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]! + days, 12));
  if (noon.getUTCFullYear() < 2000 || noon.getUTCFullYear() > 2200) return undefined;
  if (!days && noon.toISOString().slice(0, 10) !== day) return undefined; // 2026-02-31
  return new Date(startOfDayInGermany(noon));
}

const seqParam = (v: string | null) => (v !== null && /^\d{1,15}$/.test(v) ? Number(v) : undefined);

export function auditQuery(url: URL): AuditQuery {
  const p = url.searchParams;
  const form = {
    actor: (p.get('actor') ?? '').trim(),
    group: (p.get('group') ?? '').trim(),
    mail: (p.get('mail') ?? '').trim().toLowerCase(),
    from: (p.get('from') ?? '').trim(),
    to: (p.get('to') ?? '').trim(),
  };
  const filter: AuditFilter = {};
  const problems: string[] = [];
  if (form.actor) {
    if (form.actor === 'operator' || form.actor === 'system' || isUuid(form.actor))
      filter.actor = form.actor;
    else problems.push('actor');
  }
  if (form.group) {
    if ((AUDIT_GROUPS as readonly string[]).includes(form.group))
      filter.group = form.group as AuditGroup;
    else problems.push('group');
  }
  if (form.mail) {
    if (isUuid(form.mail)) filter.mail = form.mail;
    else problems.push('mail');
  }
  if (form.from) {
    filter.from = berlinMidnight(form.from);
    if (!filter.from) problems.push('from');
  }
  if (form.to) {
    // The day itself is included: up to the midnight that ends it.
    filter.to = berlinMidnight(form.to) && berlinMidnight(form.to, 1);
    if (!filter.to) problems.push('to');
  }
  const before = seqParam(p.get('before'));
  const after = before === undefined ? seqParam(p.get('after')) : undefined;
  return {
    filter,
    cursor: {
      ...(before !== undefined ? { before } : {}),
      ...(after !== undefined ? { after } : {}),
    },
    form,
    ...(problems.length ? { problem: problems.join(', ') } : {}),
  };
}

/** The filter part of a URL (no cursor), to build the page's links from. */
export const filterParams = (form: AuditQuery['form']): string =>
  new URLSearchParams(Object.entries(form).filter(([, v]) => v)).toString();
