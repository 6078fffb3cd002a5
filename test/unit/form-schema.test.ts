import { z } from 'zod';
import { isInputError, type InputError } from '../../lib/input/input-error';
import { de } from '../../web/app/i18n/de';
import { en } from '../../web/app/i18n/en';
import {
  checkbox,
  choice,
  file,
  integer,
  list,
  parseFormData,
  secret,
  text,
} from '../../web/app/lib/form-schema';

/**
 * Issue 18 §6: portal forms are read through one schema per action; every refusal is an
 * InputError naming a message of both dictionaries and the field at fault, never English text.
 */
const form = (entries: [string, string | Blob][]) => {
  const f = new FormData();
  for (const [k, v] of entries) f.append(k, v);
  return f;
};

function refusal(schema: z.ZodType, entries: [string, string | Blob][]): InputError {
  try {
    parseFormData(form(entries), schema);
  } catch (e) {
    if (isInputError(e)) return e;
    throw e;
  }
  throw new Error('the form was accepted');
}

const schema = z.object({
  name: text(10, { required: true }),
  password: secret(20),
  format: choice(['eml', 'mbox']),
  pdfs: checkbox(),
  months: integer(1, 120).optional(),
  user: list(z.string().uuid(), 3),
});

describe('parseFormData', () => {
  const ok: [string, string][] = [
    ['name', '  Anna  '],
    ['password', ' mit Leerzeichen '],
    ['format', 'mbox'],
  ];

  it('returns typed values: trimmed text, secrets as typed, absent checkbox false, lists', () => {
    const id = '0b7c2f4e-8a5d-4c1e-9f3a-2d6b8e1c4a70';
    expect(
      parseFormData(
        form([...ok, ['pdfs', 'on'], ['months', '12'], ['user', id], ['user', id]]),
        schema,
      ),
    ).toEqual({
      name: 'Anna',
      password: ' mit Leerzeichen ',
      format: 'mbox',
      pdfs: true,
      months: 12,
      user: [id, id],
    });
    expect(parseFormData(form(ok), schema)).toMatchObject({ pdfs: false, user: [] });
  });

  it.each<[string, [string, string][], string, Record<string, unknown>, string]>([
    ['a missing required field', ok.slice(1), 'form.required', {}, 'name'],
    [
      'an over-long text',
      [['name', 'x'.repeat(11)], ...ok.slice(1)],
      'form.tooLong',
      { max: 10 },
      'name',
    ],
    [
      'an over-long secret',
      [...ok.slice(0, 1), ['password', 'p'.repeat(21)], ok[2]!],
      'form.tooLong',
      { max: 20 },
      'password',
    ],
    ['control characters', [['name', 'a\u0000b'], ...ok.slice(1)], 'form.controlChars', {}, 'name'],
    [
      'a value outside a choice',
      [...ok.slice(0, 2), ['format', 'pst']],
      'form.invalidField',
      { field: 'format' },
      'format',
    ],
    [
      'a number out of range',
      [...ok, ['months', '500']],
      'form.invalidField',
      { field: 'months' },
      'months',
    ],
    [
      'a number that is not one',
      [...ok, ['months', '1e3']],
      'form.invalidField',
      { field: 'months' },
      'months',
    ],
    [
      'a list item that is no id',
      [...ok, ['user', 'admin']],
      'form.invalidField',
      { field: 'user' },
      'user',
    ],
    [
      'a list that is too long',
      [
        ...ok,
        ...Array.from({ length: 4 }, (): [string, string] => [
          'user',
          '0b7c2f4e-8a5d-4c1e-9f3a-2d6b8e1c4a70',
        ]),
      ],
      'form.invalidField',
      { field: 'user' },
      'user',
    ],
  ])('refuses %s with a message key and the field', (_what, entries, code, params, field) => {
    // prettier-ignore
    const e = refusal(schema, entries);
    expect({ code: e.code, params: e.params, field: e.field }).toEqual({ code, params, field });
    expect(de).toHaveProperty([code]);
    expect(en).toHaveProperty([code]);
  });

  it('refuses a missing or oversized file', () => {
    const files = z.object({ mail: file(4) });
    expect(refusal(files, []).code).toBe('form.required');
    expect(refusal(files, [['mail', new Blob([])]]).code).toBe('form.required');
    const big = refusal(files, [['mail', new Blob(['12345'])]]);
    expect([big.code, big.params]).toEqual(['form.tooLarge', { maxBytes: 4 }]);
    expect(de).toHaveProperty(['form.tooLarge']);
  });
});
