import { containsPhrase, SearchIndex } from '../../lib/search/engine';
import { parseQuery, QueryError } from '../../lib/search/query';
import { memoryReader, memorySegment, type SegmentInput } from '../../lib/search/memory-segment';
import type { IndexedDoc } from '../../lib/search/segment-format';
import { mergeSegments } from '../../lib/search/segment-merge';
import { tokenize } from '../../lib/search/tokenize';

/** The in-memory side of search: segment encoding, the query language and evaluation. */

function mail(
  n: number,
  fields: { from?: string; subject?: string; body?: string; attachment?: string; size?: number },
): SegmentInput {
  const from = { name: fields.from ?? 'Erika Mustermann', address: `absender${n}@firma.example` };
  const doc: IndexedDoc = {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    receivedAt: Date.UTC(2026, 0, 1) + n * 86_400_000,
    size: fields.size ?? 1000 + n,
    from: [from],
    to: [{ name: '', address: 'info@kunde.example' }],
    cc: [],
    bcc: [],
    subject: fields.subject ?? `Mail ${n}`,
    date: null,
    attachments: fields.attachment ? [{ name: fields.attachment, size: 10 }] : [],
    mailboxes: [from.address, 'info@kunde.example'],
  };
  const tokens = tokenize(
    `${from.name} ${from.address} ${doc.subject} ${fields.body ?? ''} ${fields.attachment ?? ''}`,
  );
  return { doc, tokens };
}

const corpus = [
  mail(1, {
    from: 'Jürgen Müller',
    subject: 'Rechnung März',
    body: 'Sehr geehrte Damen und Herren',
  }),
  mail(2, { subject: 'Angebot', body: 'Die Straße wird gesperrt', attachment: 'Vertrag-2026.pdf' }),
  mail(3, { subject: 'Re: Rechnung', body: 'Herren und Damen, sehr geehrte', size: 5_000_000 }),
  mail(4, { from: 'Max Mueller', body: 'Newsletter Rechnungen Übersicht' }),
];

function index(): SearchIndex {
  // Two segments, as after two merges; a third from merging them must answer the same.
  return new SearchIndex([
    memorySegment('a', corpus.slice(0, 2)),
    memorySegment('b', corpus.slice(2)),
  ]);
}

const ids = (docs: IndexedDoc[]) => docs.map((d) => Number(d.id.slice(-2)));
const run = async (i: SearchIndex, q: string, opts = {}) =>
  ids((await i.search(parseQuery(q), opts)).hits);

describe('search engine', () => {
  it('finds folded words, prefixes, and excludes', async () => {
    const i = index();
    expect(await run(i, 'RECHNUNG')).toEqual([3, 1]);
    expect(await run(i, 'rechnung*')).toEqual([4, 3, 1]);
    expect(await run(i, 'strasse')).toEqual([2]);
    expect(await run(i, 'Straße')).toEqual([2]);
    expect(await run(i, 'rechnung* -newsletter')).toEqual([3, 1]);
    expect(await run(i, 'übersicht rechnungen')).toEqual([4]);
    expect(await run(i, 'vertrag')).toEqual([2]);
    expect(await run(i, 'nichtda')).toEqual([]);
    expect(await run(i, 'absender2@firma.example')).toEqual([2]);
  });

  it('answers field, date, size and attachment filters', async () => {
    const i = index();
    // "Müller" is also found as "Mueller" and the other way round; "muller" only finds "Müller".
    expect(await run(i, 'from:müller')).toEqual([4, 1]);
    expect(await run(i, 'von:mueller')).toEqual([4, 1]);
    expect(await run(i, 'from:muller')).toEqual([1]);
    expect(await run(i, 'subject:rechnung')).toEqual([3, 1]);
    expect(await run(i, 'attachment:vertrag')).toEqual([2]);
    expect(await run(i, 'has:attachment')).toEqual([2]);
    expect(await run(i, 'larger:1M')).toEqual([3]);
    // `before` includes its day: mails of 3 and 4 January.
    expect(await run(i, 'after:2026-01-03 before:2026-01-04')).toEqual([3, 2]);
    expect(await run(i, 'mailbox:absender4@firma.example')).toEqual([4]);
    expect(await run(i, 'mailbox:sender4@firma.example')).toEqual([]);
    expect(await run(i, 'mailbox:kunde.example')).toEqual([4, 3, 2, 1]);
    expect(await run(i, '', { mailboxes: ['absender1@firma.example'] })).toEqual([1]);
    expect(() => parseQuery('after:2026-02-30')).toThrow(QueryError);
    expect(() => parseQuery('larger:viel')).toThrow(QueryError);
  });

  it('checks phrases through the caller, who has the text', async () => {
    const i = index();
    const texts = new Map(
      corpus.map((c, n) => [
        c.doc.id,
        n === 0 ? 'Sehr geehrte Damen und Herren' : 'Herren und Damen, sehr geehrte',
      ]),
    );
    const verify = async (d: IndexedDoc) =>
      containsPhrase(texts.get(d.id) ?? '', ['sehr', 'geehrte', 'damen']);
    const r = await i.search(parseQuery('"Sehr geehrte Damen"'), { verify });
    expect(ids(r.hits)).toEqual([1]);
    expect(r.total).toBe(2); // both hold the words; one in that order
  });

  it('sorts and pages with a cursor, without gaps or repeats', async () => {
    const i = index();
    for (const sort of ['newest', 'oldest', 'largest', 'smallest', 'from', 'subject'] as const) {
      const all = await run(i, '', { sort });
      const pages: number[] = [];
      let cursor: string | undefined;
      do {
        const r = await i.search(parseQuery(''), { sort, cursor, limit: 1 });
        pages.push(...ids(r.hits));
        cursor = r.nextCursor;
      } while (cursor);
      expect({ sort, pages }).toEqual({ sort, pages: all });
      expect(new Set(all).size).toBe(4);
    }
    expect(await run(i, '', { sort: 'largest' })).toEqual([3, 4, 2, 1]);
    expect(await run(i, '', { sort: 'oldest' })).toEqual([1, 2, 3, 4]);
  });

  it('shows one arrival of a logical mail: the earliest the query and the viewer match', async () => {
    // Mail 1 journaled a second time (mail 3) by a rule that also names a Bcc recipient.
    const again = mail(3, { from: 'Jürgen Müller', subject: 'Rechnung März' });
    again.doc.mailboxes.push('bcc@kunde.example');
    const corpus2 = [corpus[0]!, corpus[1]!, again, corpus[3]!];
    const first = corpus[0]!.doc.id;
    const grouped = {
      groups: new Map([[first, [first, again.doc.id]]]),
      epochs: new Set(['-']),
      version: 'v1',
    };
    const none = { ids: new Set<string>(), epochs: new Set<string>() };
    const i = new SearchIndex(
      [memorySegment('a', corpus2.slice(0, 2)), memorySegment('b', corpus2.slice(2))],
      none,
      grouped,
    );
    expect(await run(i, '')).toEqual([4, 2, 1]);
    expect(await run(i, 'rechnung')).toEqual([1]);
    expect((await i.search(parseQuery('rechnung'))).total).toBe(1);
    expect(await i.count()).toBe(3);
    // Only the later arrival names the Bcc recipient: searched for, or in their mailbox, it shows.
    expect(await run(i, 'mailbox:bcc@kunde.example')).toEqual([3]);
    expect(await run(i, '', { mailboxes: ['bcc@kunde.example'] })).toEqual([3]);
    expect(await run(i, '', { mailboxes: ['absender1@firma.example'] })).toEqual([1]);
    expect(await i.ids(parseQuery(''), { sort: 'subject' })).toHaveLength(3);
    expect(await i.ids(parseQuery(''), { everyArrival: true })).toHaveLength(4);
    // Paging one by one neither repeats nor loses the group.
    const pages: number[] = [];
    let cursor: string | undefined;
    do {
      const r = await i.search(parseQuery(''), { cursor, limit: 1 });
      pages.push(...ids(r.hits));
      cursor = r.nextCursor;
    } while (cursor);
    expect(pages).toEqual([4, 2, 1]);
    // The first arrival deleted at retention end: the later one stands for the mail.
    const firstGone = new SearchIndex(
      [memorySegment('a', corpus2.slice(0, 2)), memorySegment('b', corpus2.slice(2))],
      { ids: new Set([first]), epochs: new Set(['-']) },
      { ...grouped, groups: new Map([[first, [again.doc.id]]]) },
    );
    expect(await run(firstGone, 'rechnung')).toEqual([3]);
    // Without the groups both arrivals show: the collapse is what the test sees.
    expect(await run(new SearchIndex(i.segments), 'rechnung')).toEqual([3, 1]);
  });

  it('merged segments answer like the parts', async () => {
    const parts = [
      memorySegment('p1', corpus.slice(3)),
      memorySegment('p2', corpus.slice(0, 1)),
      memorySegment('p3', corpus.slice(1, 3)),
    ];
    const merged = new SearchIndex([memoryReader('m', await mergeSegments(parts))]);
    for (const q of ['rechnung*', 'damen', 'strasse', 'from:müller', 'vertrag'])
      expect(await run(merged, q)).toEqual(await run(index(), q));
  });
});
