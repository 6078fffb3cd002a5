import type { IndexedDoc } from '../../../lib/search/segment-format';
import type { Snippet } from '../../../lib/search/snippet';

/**
 * What a row of the archive list needs, and no more: a mail's subject can be 12 KB and its
 * sender list hundreds of addresses, which stretched the list over screens and made every page
 * heavy. The list clips them (CSS, the full start in the title); the mail's page shows all.
 */

export const SUBJECT_MAX = 300;
export const PERSON_MAX = 120;
export const SENDERS_MAX = 3;

export const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

export function listRow(
  doc: IndexedDoc & { snippet?: Snippet; snippetSource?: { filename: string; page?: number } },
) {
  return {
    id: doc.id,
    receivedAt: doc.receivedAt,
    size: doc.size,
    subject: doc.subject === null ? null : clip(doc.subject, SUBJECT_MAX),
    from: doc.from.slice(0, SENDERS_MAX).map((a) => ({
      name: clip(a.name, PERSON_MAX),
      address: clip(a.address, PERSON_MAX),
    })),
    moreSenders: Math.max(0, doc.from.length - SENDERS_MAX),
    attachments: doc.attachments.length,
    snippet: doc.snippet,
    snippetSource: doc.snippetSource && {
      filename: clip(doc.snippetSource.filename, PERSON_MAX),
      page: doc.snippetSource.page,
    },
  };
}
