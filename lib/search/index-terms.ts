import { ATTACHMENT_MARK, type IndexedDoc } from './segment-format';
import { tokenize } from './tokenize';

/**
 * The terms a mail is indexed under: the words ingest found (tokenize.ts) and, so that filters
 * need no mail summary, terms for its fields and facets. Those carry a `field:` prefix; no word
 * or address token contains a colon, so they never collide with a word.
 *
 * A word found in an attachment (a text part, a forwarded mail, a document the index job read)
 * is the term `word` + ATTACHMENT_MARK: it sorts right after the same word of the body, so the
 * two are read from one dictionary block, a prefix covers both, and `in:attachment` / `in:body`
 * tell them apart. No token holds a control character, so the mark never collides.
 */

export type FieldName = 'from' | 'to' | 'cc' | 'subject' | 'attachment' | 'mailbox' | 'filetype';

export const attachmentTerm = (word: string) => `${word}${ATTACHMENT_MARK}`;
export const isAttachmentTerm = (term: string) => term.endsWith(ATTACHMENT_MARK);
/** `filetype:pdf`: an attachment's file name extension. */
export const fileTypeTerm = (extension: string) => `ft:${extension.toLowerCase()}`;

export const fieldTerm = (field: Exclude<FieldName, 'mailbox' | 'filetype'>, word: string) =>
  `${field}:${word}`;
/** `mailbox:` names an address exactly, or a whole domain (`firma.de`, `@firma.de`). */
export const mailboxTerm = (value: string) =>
  value.includes('@') && !value.startsWith('@') ? `mb:${value}` : `mb:@${value.replace(/^@/, '')}`;
export const HAS_ATTACHMENT = 'has:attachment';

const people = (list: { name: string; address: string }[]) =>
  list.map((a) => `${a.name} ${a.address}`).join(' ');

export function indexTerms(doc: IndexedDoc, tokens: Iterable<string>): Set<string> {
  const terms = new Set(tokens);
  const field = (name: Exclude<FieldName, 'mailbox' | 'filetype'>, text: string) => {
    for (const word of tokenize(text, new Set(), 2_000)) terms.add(fieldTerm(name, word));
  };
  field('from', people(doc.from));
  field('to', people(doc.to));
  field('cc', people(doc.cc));
  field('subject', doc.subject ?? '');
  field('attachment', doc.attachments.map((a) => a.name ?? '').join(' '));
  for (const m of doc.mailboxes) {
    terms.add(mailboxTerm(m));
    terms.add(mailboxTerm(`@${m.slice(m.lastIndexOf('@') + 1)}`));
  }
  if (doc.attachments.length) terms.add(HAS_ATTACHMENT);
  for (const a of doc.attachments) {
    const extension = /\.([\p{L}\p{N}]{1,10})$/u.exec(a.name ?? '')?.[1];
    if (extension) terms.add(fileTypeTerm(extension));
  }
  return terms;
}

/** Terms → positions of the mails holding them, in term order (what writeSegment takes). */
export function invert(termsPerDoc: Iterable<Iterable<string>>): [string, number[]][] {
  const byTerm = new Map<string, number[]>();
  let position = 0;
  for (const terms of termsPerDoc) {
    for (const term of terms) {
      const list = byTerm.get(term);
      if (list) list.push(position);
      else byTerm.set(term, [position]);
    }
    position++;
  }
  return [...byTerm].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
