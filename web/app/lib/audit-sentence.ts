import { isMessageKey, translate, type Lang, type MessageKey } from '../i18n/translate';

/**
 * An audit event as a person reads it (issue 25 §1): who did it and what, in the viewer's
 * language. Each catalogue event has a sentence `audit.event.<action>` in both dictionaries (the
 * catalogue test checks it); its placeholders are filled from the event's stored facts and from
 * what the viewer's session could decrypt (a mail's subject, an attachment's name, search terms).
 */

export interface ShownEvent {
  action: string;
  actor: { type: string; id: string | null; label: string | null };
  target: { type: string; id: string } | null;
  details: Record<string, unknown>;
  sealed: boolean;
  opened?: Record<string, unknown>;
  mail?: { subject: string | null; attachments: (string | null)[] };
}

export type People = Record<string, { email: string; role: string }>;

const ROLES = ['owner', 'admin', 'auditor', 'member'];

export function eventSentence(lang: Lang, e: ShownEvent, people: People): string {
  const key = `audit.event.${e.action}`;
  if (!isMessageKey(key)) return e.action;
  return translate(lang, key, eventVars(lang, e, people));
}

export function actorName(lang: Lang, e: Pick<ShownEvent, 'actor'>, people: People): string {
  const { actor } = e;
  if (actor.type === 'user')
    return actor.id && people[actor.id]
      ? people[actor.id]!.email
      : translate(lang, 'audit.unknownUser', { id: (actor.id ?? '').slice(0, 8) });
  if (actor.type === 'operator')
    return `${translate(lang, 'audit.operator')}${actor.label ? ` · ${actor.label}` : ''}`;
  const job = `audit.job.${actor.label ?? ''}`;
  const label = isMessageKey(job) ? translate(lang, job) : actor.label;
  return `${translate(lang, 'audit.system')}${label ? ` · ${label}` : ''}`;
}

function eventVars(lang: Lang, e: ShownEvent, people: People): Record<string, string> {
  const d = e.details;
  const t = (key: MessageKey, vars?: Record<string, string | number>) => translate(lang, key, vars);
  const quote = (text: string) => t('audit.quote', { text });
  const str = (v: unknown): string | undefined =>
    typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
  /** A role, a version, a list, a setting's value: as short as it can be read. */
  const value = (v: unknown): string => {
    if (v === null || v === undefined) return '–';
    if (typeof v === 'string' && ROLES.includes(v)) return t(`role.${v}` as MessageKey);
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (Array.isArray(v)) return v.map(value).join(', ') || '–';
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}: ${value(x)}`)
      .join(', ');
  };
  const targetUser =
    e.target?.type === 'user' ? (people[e.target.id]?.email ?? e.target.id.slice(0, 8)) : undefined;

  let mail = '';
  if (e.mail) mail = quote(e.mail.subject ?? t('audit.noSubject'));
  else if (e.target?.type === 'message') mail = t('audit.mailHidden');

  let file = '';
  if (typeof d.index === 'number')
    file = e.mail?.attachments[d.index]
      ? quote(e.mail.attachments[d.index]!)
      : t('audit.attachmentN', { n: d.index + 1 });
  else if (d.inline) file = t('audit.inline');

  const kind = str(d.kind) ?? 'search';
  const query =
    typeof e.opened?.query === 'string'
      ? quote(e.opened.query)
      : isMessageKey(`audit.search.${kind}`)
        ? t(`audit.search.${kind}` as MessageKey, { n: str(d.mails) ?? '' })
        : kind;
  const method = str(d.method) ?? 'password';

  const key =
    e.target?.type === 'tenant-key'
      ? t('audit.key.tenant', { v: e.target.id })
      : t('audit.key.ledger');

  return {
    mail,
    file,
    query,
    key,
    user: str(d.email) ?? targetUser ?? '–',
    email: str(d.email) ?? (e.actor.id ? people[e.actor.id]?.email : undefined) ?? '–',
    role: value(d.role),
    from: value(d.from),
    to: value(d.to),
    n: str(d.mails) ?? str(d.events) ?? str(d.matched) ?? '–',
    setting: str(d.setting) ?? (e.target?.type === 'setting' ? e.target.id : '–'),
    label: str(d.label) ?? str(d.address) ?? str(d.name) ?? str(d.hint) ?? '–',
    reason: value(d.reason ?? d.recipient),
    method: isMessageKey(`audit.method.${method}`)
      ? t(`audit.method.${method}` as MessageKey)
      : method,
    index: str(d.ledgerIndex) ?? '–',
    id: e.target?.id.slice(0, 8) ?? '–',
    part: str(d.part) ?? '–',
    format: str(d.format) ?? str(d.source) ?? '–',
    folder: [str(d.host), str(d.folder)].filter(Boolean).join(' / ') || '–',
    month: str(d.month) ?? '–',
    class: str(d.retentionClass) ?? '–',
  };
}

/** The facts behind a sentence, for the details line: ids and counts, lists as their length. */
export function detailLine(e: Pick<ShownEvent, 'details' | 'target'>): string {
  const parts = Object.entries(e.details).map(([k, v]) =>
    Array.isArray(v) && v.length > 3 ? `${k}: ${v.length}×` : `${k}: ${JSON.stringify(v)}`,
  );
  if (e.target) parts.unshift(`${e.target.type}: ${e.target.id}`);
  return parts.join(' · ');
}
