import fc from 'fast-check';
import { de } from '../../web/app/i18n/de';
import { en } from '../../web/app/i18n/en';

/**
 * The pieces of the portal's form fuzzer (issue 27): the forms a page offers, hostile and
 * edge-case values for their fields, and what a response must never show.
 */

export interface ScrapedForm {
  action: string;
  fields: { name: string; value: string }[];
}

const attr = (tag: string, name: string) =>
  new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1]?.replace(/&amp;/g, '&');

/** Every `method="post"` form of a page, with its fields and their rendered values. */
export function scrapeForms(html: string, pagePath: string): ScrapedForm[] {
  const forms: ScrapedForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    if (!/method="post"/i.test(m[1]!)) continue;
    const fields: { name: string; value: string }[] = [];
    for (const f of m[2]!.matchAll(/<(input|select|textarea|button)\b([^>]*)>/g)) {
      const name = attr(f[2]!, 'name');
      if (!name) continue;
      fields.push({ name, value: attr(f[2]!, 'value') ?? '' });
    }
    forms.push({ action: attr(m[1]!, 'action') ?? pagePath, fields });
  }
  return forms;
}

const LETTERS = [...'abcdefghijklmnopqrstuvwxyzäöüß'];

/** Values a person or an attacker may type: every one must be refused or taken, never a 5xx. */
export const EDGE_CASES = [
  '',
  ' ',
  'x'.repeat(5000),
  'Müller & Söhne GmbH – Straße 5',
  '\u202eעברית\u202c مرحبا بالعالم',
  '\u0000',
  'a\u0000b',
  '\u0007\u001b[31m\r\n',
  "' OR 1=1; --",
  "'); DROP TABLE users; --",
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{7*7}}${7*7}',
  '../../etc/passwd',
  '-1',
  '0',
  '1e309',
  'NaN',
  '99999999999999999999',
  '0x10',
  '------------------------------------',
  '00000000-0000-0000-0000-000000000000',
  'others',
  'a'.repeat(64),
  '\ud800',
  '😀'.repeat(300),
];

export const hostileValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...EDGE_CASES),
  fc.constantFrom(...LETTERS).map((l) => `@${l}steuer${l}.de`),
  fc.constantFrom(...LETTERS).map((l) => `${l}.müller@bäckerei-${l}.de`),
  fc.string({ maxLength: 80, unit: 'binary' }),
  fc.string({ maxLength: 40, unit: 'grapheme' }),
  fc.integer().map(String),
  fc.double().map(String),
  fc.uuid(),
);

const keptValue = (form: ScrapedForm, keep: string[], name: string) =>
  keep.includes(name) ? form.fields.find((f) => f.name === name)!.value : undefined;

/** Bodies tried before the random ones: every field set to each edge case in turn. */
export function edgeCaseForms(form: ScrapedForm, keep: string[]): [[string, string][]][] {
  const names = [...new Set(form.fields.map((f) => f.name))];
  return EDGE_CASES.map((value) => [
    names.map((name): [string, string] => [name, keptValue(form, keep, name) ?? value]),
  ]);
}

/** A request body: each field hostile, some dropped, some sent twice. */
export function hostileForm(form: ScrapedForm, keep: string[]): fc.Arbitrary<[string, string][]> {
  const names = [...new Set(form.fields.map((f) => f.name))];
  return fc
    .tuple(
      ...names.map((name) =>
        fc
          .record({
            mode: fc.constantFrom('hostile', 'hostile', 'missing', 'twice'),
            a: hostileValue,
            b: hostileValue,
          })
          .map((v) => ({ name, ...v })),
      ),
    )
    .map((fields) =>
      fields.flatMap(({ name, mode, a, b }): [string, string][] => {
        const kept = keptValue(form, keep, name);
        if (kept !== undefined) return [[name, kept]];
        if (mode === 'missing') return [];
        if (mode === 'twice')
          return [
            [name, a],
            [name, b],
          ];
        return [[name, a]];
      }),
    );
}

const visibleText = (html: string) =>
  html
    .replace(/<script\b[\s\S]*?<\/script>/g, ' ')
    .replace(/<style\b[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&amp;/g, '&');

// English sentences that are not also German (long enough to be a real sentence, not "Passkey").
const ENGLISH = Object.entries(en)
  .filter(([k, v]) => v !== de[k as keyof typeof de] && v.replace(/\{\w+\}/g, '').length >= 18)
  .map(([, v]) => v.split(/\{\w+\}/).reduce((a, b) => (b.length > a.length ? b : a), ''))
  .filter((s) => s.trim().length >= 14);
const KEYS = Object.keys(de);

/** What a German response must not show: a stack trace, an English sentence, a raw message key. */
export function responseFaults(body: string, german: boolean): string[] {
  const faults: string[] = [];
  if (/\n\s+at [^\n]+:\d+:\d+\)?/.test(body) || /node_modules\//.test(body))
    faults.push('stack trace');
  const text = visibleText(body);
  if (german) {
    const english = ENGLISH.find((s) => text.includes(s));
    if (english) faults.push(`English text: ${english}`);
  }
  const key = KEYS.find((k) => new RegExp(`(^|\\s)${k.replace(/\./g, '\\.')}(\\s|$)`).test(text));
  if (key) faults.push(`untranslated key: ${key}`);
  return faults;
}
