import { SearchIndex } from '../../lib/search/engine';
import { HAS_ATTACHMENT } from '../../lib/search/index-terms';
import { memoryReader, memorySegment, type SegmentInput } from '../../lib/search/memory-segment';
import { parseQuery, type Query } from '../../lib/search/query';
import type { IndexedDoc } from '../../lib/search/segment-format';
import { mergeSegments } from '../../lib/search/segment-merge';
import type { SortOrder } from '../../lib/search/sort';
import { fold, tokenize } from '../../lib/search/tokenize';
import { attachmentTerm, indexTerms, invert, isAttachmentTerm } from '../../lib/search/index-terms';
import { inflate } from '../../lib/search/segment-format';
import { SegmentReader, type BlockSource, type Positions } from '../../lib/search/segment-reader';
import { writeSegment } from '../../lib/search/segment-writer';

/**
 * The block-wise engine against a brute-force reference on a corpus large enough to cross every
 * block boundary (doc, order and dictionary blocks), with many ties in time, size and subject:
 * every query and sort order gives the same mails in the same order, paged or not.
 */

function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

const random = rng(7);
const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
const WORDS = ['rechnung', 'angebot', 'mahnung', 'vertrag', 'müller', 'straße', 'projekt', 'termin', 'lieferung', 'kunde', 'zahlung', 'bericht']; // prettier-ignore
const NAMES = ['Jürgen Müller', 'Erika Mustermann', 'Max Mueller', 'Anna Schmidt', ''];
const SUBJECTS = ['Rechnung', 'Re: Rechnung', 'Angebot Q3', 'Termin', '', 'Über uns'];

function corpus(n: number): SegmentInput[] {
  return Array.from({ length: n }, (_, i) => {
    const from = { name: pick(NAMES), address: `person${i % 40}@firma${i % 3}.example` };
    const to = { name: '', address: pick(['info@kunde.example', 'buchhaltung@kunde.example']) };
    const body = Array.from({ length: 4 + (i % 5) }, () => pick(WORDS)).join(' ') + ` nr${i}`;
    const doc: IndexedDoc = {
      id: `00000000-0000-4000-8000-${String((i * 7919) % 100_000).padStart(12, '0')}`,
      receivedAt: Date.UTC(2026, 0, 1) + (i % 700) * 3_600_000,
      size: 1000 * (1 + (i % 13)),
      from: [from],
      to: [to],
      cc: [],
      bcc: [],
      subject: `${pick(SUBJECTS)}${i % 4 ? '' : ` ${pick(WORDS)}`}`,
      date: null,
      attachments: i % 6 === 0 ? [{ name: `${pick(WORDS)}-${i}.pdf`, size: 10 }] : [],
      mailboxes: [from.address, to.address],
    };
    const tokens = tokenize(
      `${from.name} ${from.address} ${to.address} ${doc.subject} ${body} ${doc.attachments[0]?.name ?? ''}`,
    );
    // Every seventh mail has attachment text (a document, a forwarded mail): attachment terms.
    if (i % 7 === 0)
      for (const w of tokenize(`${pick(WORDS)} ${pick(WORDS)} anlage${i % 50}`))
        tokens.add(attachmentTerm(w));
    return { doc, tokens };
  });
}

const mails = corpus(3100);
const tokensOf = new Map(mails.map((m) => [m.doc.id, [...m.tokens]]));

const fieldText = (d: IndexedDoc, field: string) =>
  field === 'from' ? d.from.map((a) => `${a.name} ${a.address}`).join(' ')
  : field === 'to' ? d.to.map((a) => `${a.name} ${a.address}`).join(' ')
  : field === 'subject' ? d.subject ?? ''
  : field === 'attachment' ? d.attachments.map((a) => a.name ?? '').join(' ')
  : ''; // prettier-ignore

function matches(d: IndexedDoc, q: Query, mailboxes?: string[]): boolean {
  const tokens = tokensOf
    .get(d.id)!
    .filter((w) => q.scope === undefined || isAttachmentTerm(w) === (q.scope === 'attachment'));
  const has = (t: { term: string; prefix: boolean }) =>
    tokens.some((token) => {
      const w = isAttachmentTerm(token) ? token.slice(0, -1) : token;
      return t.prefix ? w.startsWith(t.term) : w === t.term;
    });
  if (!q.all.every(has) || q.none.some(has)) return false;
  if (q.after !== undefined && d.receivedAt < q.after) return false;
  if (q.before !== undefined && d.receivedAt >= q.before) return false;
  if (q.hasAttachment && !d.attachments.length) return false;
  if (q.larger !== undefined && d.size <= q.larger) return false;
  if (q.smaller !== undefined && d.size >= q.smaller) return false;
  if (mailboxes && !d.mailboxes.some((m) => mailboxes.includes(m))) return false;
  return q.fields.every((f) => {
    if (f.field === 'filetype')
      return d.attachments.some((a) => a.name?.toLowerCase().endsWith(`.${f.value}`));
    if (f.field === 'mailbox')
      return d.mailboxes.some(
        (m) => m === f.value || m.endsWith(f.value.startsWith('@') ? f.value : `@${f.value}`),
      );
    const words = [...tokenize(fieldText(d, f.field))];
    return (f.value.match(/[^\s<>()[\]{}"',;:]+@[^\s<>()[\]{}"',;:]+|[\p{L}\p{N}]+/gu) ?? []).every(
      (v) => words.some((w) => w.startsWith(v)),
    );
  });
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const newest = (a: IndexedDoc, b: IndexedDoc) => b.receivedAt - a.receivedAt || cmp(a.id, b.id);
const text = (s: string) => fold(s).slice(0, 120);
const REFERENCE: Record<SortOrder, (a: IndexedDoc, b: IndexedDoc) => number> = {
  newest,
  oldest: (a, b) => -newest(a, b),
  smallest: (a, b) => a.size - b.size || newest(a, b),
  largest: (a, b) => b.size - a.size || -newest(a, b),
  subject: (a, b) => cmp(text(a.subject ?? ''), text(b.subject ?? '')) || newest(a, b),
  from: (a, b) =>
    cmp(
      text(a.from[0]?.name || a.from[0]?.address || ''),
      text(b.from[0]?.name || b.from[0]?.address || ''),
    ) || newest(a, b),
};

const QUERIES = [
  '',
  'rechnung',
  'müller',
  'mueller',
  'rech*',
  'rechnung -mahnung',
  'vertrag angebot',
  'nr1234',
  'nr12*',
  'nr1*',
  'n*',
  're*',
  'mu*',
  'mü*',
  'rechn*',
  'pe*',
  'person1*',
  // Field and facet terms (`from:…`, `mb:…`, `has:attachment`) are no words: no prefix finds them.
  'from*',
  'mb*',
  'subject*',
  'has*',
  'in:attachment rechnung',
  'in:anhang rech*',
  'in:body rechnung',
  'in:text rech*',
  'rechnung in:attachment -mahnung',
  'anlage1*',
  'anlage12',
  'filetype:pdf',
  'dateityp:pdf rechnung',
  'filetype:docx',
  'rech* before:2026-01-15',
  'from:müller',
  'from:muller',
  'from:person3@firma0.example',
  'to:buchhaltung',
  'subject:rechnung',
  'subject:"re rechnung"',
  'attachment:vertrag',
  'has:attachment',
  'mailbox:info@kunde.example',
  'mailbox:firma1.example',
  'after:2026-01-05 before:2026-01-12',
  'termin after:2026-01-20',
  'larger:5K smaller:9K',
  'kunde.example',
  'person7@firma1.example',
  'nichtvorhanden',
];
const SORTS: SortOrder[] = ['newest', 'oldest', 'largest', 'smallest', 'from', 'subject'];

const split = (parts: number[]) => {
  const out: SegmentInput[][] = [];
  let at = 0;
  for (const n of parts) out.push(mails.slice(at, (at += n)));
  return out;
};

const ids = (docs: IndexedDoc[]) => docs.map((d) => d.id);

const reference = (query: Query, sort: SortOrder, mailboxes?: string[]) =>
  mails
    .map((m) => m.doc)
    .filter((d) => matches(d, query, mailboxes))
    .sort(REFERENCE[sort]);

/** The ids of every page, following the cursors; each page's total must be `total`. */
async function everyPage(
  index: SearchIndex,
  query: Query,
  sort: SortOrder,
  limit: number,
  total: number,
) {
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const r = await index.search(query, { sort, cursor, limit });
    expect(r.total).toBe(total);
    seen.push(...ids(r.hits));
    cursor = r.nextCursor;
  } while (cursor);
  return seen;
}

/** A segment as written before the prefix dictionary (decision 0023): prefixes walk the terms. */
function withoutPrefixes(seg: SegmentReader): SegmentReader {
  const { prefix: _, ...header } = seg.header;
  return new SegmentReader(`${seg.id}-old`, seg.epochId, header, (seg as unknown as { source: BlockSource }).source);
} // prettier-ignore

describe('search engine against a brute-force reference', () => {
  const segments = split([1500, 1100, 500]).map((part, i) => memorySegment(`s${i}`, part));
  const index = new SearchIndex(segments);
  const older = new SearchIndex(segments.map(withoutPrefixes));

  it.each(QUERIES)('%s: same mails, same order, same total', async (q) => {
    const query = parseQuery(q);
    for (const sort of SORTS) {
      const expected = reference(query, sort);
      for (const [by, idx] of [
        ['prefix dictionary', index],
        ['older segments', older],
      ] as const) {
        const r = await idx.search(query, { sort, limit: 60 });
        expect({ q, by, sort, total: r.total }).toEqual({ q, by, sort, total: expected.length });
        expect({ q, by, sort, hits: ids(r.hits) }).toEqual({
          q, by, sort, hits: ids(expected.slice(0, 60)),
        }); // prettier-ignore
        expect(await idx.ids(query, { sort })).toEqual(ids(expected));
      }
    }
  });

  it('answers short prefixes from the prefix dictionary with one list per segment', async () => {
    expect(segments.every((s) => s.header.prefix?.upTo === 4)).toBe(true);
    const lists = new Map<string, number>();
    for (const [prefix, list] of await Promise.all(
      ['re', 'rec', 'rech', 'nr1', 'anl'].map(async (p) => [p, (await segments[0]!.postings(p, true, 'any')).length] as const),
    ))
      lists.set(prefix, list);
    // The same union as walking the words, found without reading them.
    const legacy = withoutPrefixes(segments[0]!);
    for (const [prefix, length] of lists)
      expect(length).toBe((await legacy.postings(prefix, true, 'any')).length);
    expect(lists.get('re')).toBeGreaterThanOrEqual(lists.get('rech')!);
    expect(lists.get('rech')).toBeGreaterThan(0);
  }); // prettier-ignore

  it('pages through every order with cursors, without gaps or repeats', async () => {
    for (const q of ['', 'rechnung', 'has:attachment', 'from:müller']) {
      const query = parseQuery(q);
      for (const sort of SORTS) {
        const expected = reference(query, sort);
        const seen = await everyPage(index, query, sort, 97, expected.length);
        expect({ q, sort, seen }).toEqual({ q, sort, seen: ids(expected) });
      }
    }
  });

  it('pages by time across segments of separate months, reading the recent ones first', async () => {
    // Segments of disjoint time ranges, as monthly epochs give: paging by time may stop early.
    const byTime = [...mails].sort((a, b) => a.doc.receivedAt - b.doc.receivedAt);
    // Ten segments of 311 mails: neighbours share an hour, as two merges of one month may.
    const months = Array.from({ length: 10 }, (_, i) =>
      memorySegment(`t${i}`, byTime.slice(i * 311, i * 311 + 311)),
    );
    const monthly = new SearchIndex(months);
    for (const q of ['', 'rechnung', 'has:attachment'])
      for (const sort of ['newest', 'oldest'] as const) {
        const query = parseQuery(q);
        const expected = reference(query, sort);
        const seen = await everyPage(monthly, query, sort, 113, expected.length);
        expect({ q, sort, seen }).toEqual({ q, sort, seen: ids(expected) });
        // Pages ending where one group of segments meets the next, on a time two segments share.
        for (let limit = 1228; limit <= 1250; limit++) {
          const r = await monthly.search(query, { sort, limit });
          expect({ q, sort, limit, hits: ids(r.hits) }).toEqual({
            q, sort, limit, hits: ids(expected.slice(0, limit)),
          }); // prettier-ignore
        }
      }
  });

  it('counts exactly up to a bound when paging by time, and reads only the segments it needs', async () => {
    const byTime = [...mails].sort((a, b) => a.doc.receivedAt - b.doc.receivedAt);
    const months = Array.from({ length: 10 }, (_, i) =>
      memorySegment(`u${i}`, byTime.slice(i * 311, i * 311 + 311)),
    );
    // Which segments' postings a query read.
    const read = new Set<string>();
    for (const seg of months) {
      const postings = seg.postings.bind(seg);
      seg.postings = (...args) => (read.add(seg.id), postings(...args));
    }
    const monthly = new SearchIndex(months);
    for (const q of ['rechnung', 'n*', 'has:attachment']) {
      const query = parseQuery(q);
      const all = reference(query, 'newest').length;
      read.clear();
      const r = await monthly.search(query, { limit: 20, exactUpTo: 100 });
      expect(ids(r.hits)).toEqual(ids(reference(query, 'newest').slice(0, 20)));
      expect(r.totalExact).toBe(false);
      expect(r.total).toBeGreaterThanOrEqual(100);
      expect(r.total).toBeLessThan(all);
      expect(read.size).toBeLessThan(months.length);
      // Beyond the bound or in another order: every segment, an exact count.
      expect(await monthly.search(query, { limit: 20, exactUpTo: all })).toMatchObject({
        total: all,
        totalExact: true,
      });
      expect(await monthly.search(query, { sort: 'subject', exactUpTo: 100 })).toMatchObject({
        total: all,
        totalExact: true,
      });
    }
    // Browsing reads no postings: its count is always exact.
    expect(await monthly.search(parseQuery(''), { exactUpTo: 100 })).toMatchObject({
      total: mails.length,
      totalExact: true,
    });
  });

  it('sorted by subject or size over many segments, asks later segments only for rows better than the k-th', async () => {
    // Sixteen segments of 2,000 mails with distinct subjects; one word in 3 % of them (sparse:
    // without the bound, every segment's rank column would be read).
    const rnd = rng(11);
    const many = Array.from({ length: 16 }, (_, s) =>
      memorySegment(
        `k${s}`,
        Array.from({ length: 2000 }, (_, i): SegmentInput => {
          const n = s * 2000 + i;
          const doc: IndexedDoc = {
            id: `00000000-0000-4000-9000-${String(n).padStart(12, '0')}`,
            receivedAt: Date.UTC(2026, 0, 1) + Math.floor(rnd() * 1e9),
            size: 1000 + Math.floor(rnd() * 5000),
            from: [{ name: '', address: `p${n % 50}@firma.example` }],
            to: [], cc: [], bcc: [],
            subject: `betreff ${Math.floor(rnd() * 1e8).toString(36)}`,
            date: null, attachments: [], mailboxes: [],
          }; // prettier-ignore
          const tokens = n % 33 === 0 ? ['selten', 'alle'] : ['alle'];
          return { doc, tokens: n % 997 === 0 ? [...tokens, 'einmalig'] : tokens };
        }),
      ),
    );
    const docs = await Promise.all(many.map((seg) => seg.allDocs()));
    const byId = new Map(docs.flat().map((d) => [d.id, d]));
    let rankReads = 0;
    for (const seg of many) {
      const rank = seg.rank.bind(seg);
      seg.rank = (order) => (rankReads++, rank(order));
    }
    const index = new SearchIndex(many);
    const holds = (d: IndexedDoc, q: string) => {
      const n = Number(d.id.slice(-12));
      return q === 'alle' || (q === 'selten' ? n % 33 === 0 : q === 'einmalig' ? n % 997 === 0 : d.from[0]!.address === 'p7@firma.example');
    }; // prettier-ignore
    for (const q of ['selten', 'einmalig', 'alle', 'from:p7@firma.example'])
      for (const sort of ['subject', 'largest', 'smallest', 'from'] as const) {
        const query = parseQuery(q);
        const expected = [...byId.values()].filter((d) => holds(d, q)).sort(REFERENCE[sort]);
        for (const limit of [1, 10, 75]) {
          rankReads = 0;
          const r = await index.search(query, { sort, limit });
          expect({ q, sort, limit, hits: ids(r.hits) }).toEqual({
            q, sort, limit, hits: ids(expected.slice(0, limit)),
          }); // prettier-ignore
          if (q === 'selten' && limit === 10) expect(rankReads).toBeLessThanOrEqual(8);
          // Fewer matches than the page shows: ranked by their summaries, no rank column read.
          if (q === 'einmalig' && limit === 75) expect(rankReads).toBe(0);
        }
        const seen = await everyPage(index, query, sort, 211, expected.length);
        expect({ q, sort, seen: seen.length }).toEqual({ q, sort, seen: expected.length });
        expect(seen).toEqual(ids(expected));
      }
  });

  it('gives the same answers from remembered prefix unions as from the postings', async () => {
    // As the portal's cache does it: a prefix's union kept (packed) and handed out again.
    const kept = new Map<string, Positions>();
    let computed = 0;
    const remembering = split([1500, 1100, 500]).map((part, i) => {
      const written = writeSegment(
        part.map((m) => m.doc),
        invert(part.map((m) => indexTerms(m.doc, m.tokens))),
      );
      // Older segments (no prefix dictionary): every prefix is a walk over the words.
      const { prefix: _, ...header } = written.header;
      return new SegmentReader(`r${i}`, '-', header, {
        block: async (n, parse) => parse(inflate(written.blocks[n]!)),
        remember: async (key, compute) => {
          if (!kept.has(`${i}/${key}`)) kept.set(`${i}/${key}`, (computed++, await compute()));
          return kept.get(`${i}/${key}`)!;
        },
      });
    });
    const index = new SearchIndex(remembering);
    for (const q of ['rech*', 'n*', 'nr12*', 'rechn*', 'from:müller', 'subject:rechnung', 'zzz*'])
      for (const round of [1, 2])
        for (const sort of ['newest', 'subject'] as const) {
          const query = parseQuery(q);
          const expected = reference(query, sort);
          const r = await index.search(query, { sort, limit: 60 });
          expect({ q, round, sort, total: r.total, hits: ids(r.hits) }).toEqual({
            q, round, sort, total: expected.length, hits: ids(expected.slice(0, 60)),
          }); // prettier-ignore
        }
    expect(computed).toBe(kept.size);
    expect([...kept.values()].some((p) => p instanceof Uint8Array)).toBe(true);
  });

  it('confines a member to their mailboxes', async () => {
    const mine = ['person5@firma2.example', 'person9@firma0.example'];
    const query = parseQuery('rechnung');
    const expected = reference(query, 'newest', mine);
    const r = await index.search(query, { mailboxes: mine, limit: 1000 });
    expect(ids(r.hits)).toEqual(ids(expected));
    expect(expected.length).toBeGreaterThan(0);
  });

  it('hides deleted mails, and a merge leaves them out', async () => {
    const gone = new Set(mails.filter((_, i) => i % 11 === 0).map((m) => m.doc.id));
    const hiding = new SearchIndex(segments, { ids: gone, epochs: new Set(['-']) });
    const expected = mails
      .map((m) => m.doc)
      .filter((d) => !gone.has(d.id))
      .sort(newest);
    expect(await hiding.ids(parseQuery(''))).toEqual(ids(expected));
    const merged = new SearchIndex([memoryReader('m', await mergeSegments(segments, gone))]);
    expect(await merged.ids(parseQuery(''))).toEqual(ids(expected));
    for (const q of ['rechnung', 'from:müller', 'has:attachment', 'nr12*'])
      expect(await merged.ids(parseQuery(q), { sort: 'subject' })).toEqual(
        await hiding.ids(parseQuery(q), { sort: 'subject' }),
      );
  });

  it('indexes the attachment facet only for mails with attachments', async () => {
    const withAttachment = mails.filter((m) => m.doc.attachments.length).length;
    expect((await index.search(parseQuery('has:attachment'))).total).toBe(withAttachment);
    // Facet terms cannot be typed as words: the colon splits them.
    expect((await index.search(parseQuery(HAS_ATTACHMENT.replace(':', ' ')))).total).toBe(0);
  });
});
