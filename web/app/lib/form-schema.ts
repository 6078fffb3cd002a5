import { z } from 'zod';
import { InputError } from '../../../lib/input/input-error';

/**
 * One schema per form action (issue 18 §6): what the action reads, bounded and typed, instead of
 * `String(form.get(…))` by hand. A refused field becomes an InputError whose code is a key of the
 * portal's dictionaries (`form.required`, `form.tooLong`, `form.controlChars`,
 * `form.invalidField`, or the key a refinement names), so the action's page shows it in the
 * user's language next to the field, and what was typed is kept (formAction).
 */

/** A refinement's message is the dictionary key to show; its params fill the placeholders. */
export const problem = (code: string) => ({ message: code });

/**
 * Free text: trimmed, at most `max` characters, no control characters but tab and line breaks;
 * absent is empty (a checkbox-like absence is not an error unless `required`).
 */
export const text = (max: number, opts: { required?: boolean } = {}) =>
  z
    .string()
    .optional()
    .transform((v) => (v ?? '').trim())
    .superRefine((v, ctx) => {
      if (!v && opts.required) ctx.addIssue({ code: 'custom', ...problem('form.required') });
      else if (v.length > max)
        ctx.addIssue({ code: 'custom', ...problem('form.tooLong'), params: { max } });
      // eslint-disable-next-line no-control-regex
      else if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v))
        ctx.addIssue({ code: 'custom', ...problem('form.controlChars') });
    });

/** A secret exactly as typed (passwords, keys: never trimmed), at most `max` characters. */
export const secret = (max: number) =>
  z
    .string()
    .optional()
    .transform((v) => v ?? '')
    .superRefine((v, ctx) => {
      if (v.length > max)
        ctx.addIssue({ code: 'custom', ...problem('form.tooLong'), params: { max } });
    });

/** One of a fixed set of values (radio buttons, intents, selects). */
export const choice = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values);

/** A checkbox: present (any value the browser sends for "on") or absent. */
export const checkbox = () =>
  z
    .string()
    .optional()
    .transform((v) => v !== undefined && v !== '');

/** A whole number in [min, max], from a text or number field. */
export const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d{1,9}$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A row id (uuid); anything else is never any row's id. */
export const uuid = () => z.string().uuid();

/** Every value of a repeated field (checkbox lists), each by `item`. */
export const list = <T extends z.ZodType<unknown, string>>(item: T, max: number) =>
  z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]))
    .pipe(z.array(item).max(max));

/** An uploaded file of at most `maxBytes` (the body limit bounds it while it is read). */
export const file = (maxBytes: number) =>
  z
    .instanceof(File, problem('form.required'))
    .refine((f) => f.size > 0, problem('form.required'))
    .refine((f) => f.size <= maxBytes, { ...problem('form.tooLarge'), params: { maxBytes } });

/** The form as a plain object: one value per field, an array where a field repeats. */
export function formValues(
  form: FormData,
): Record<string, FormDataEntryValue | FormDataEntryValue[]> {
  const out: Record<string, FormDataEntryValue | FormDataEntryValue[]> = {};
  form.forEach((v, k) => {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  });
  return out;
}

/** The first problem of a failed parse as an InputError for the field at fault. */
function inputErrorOf(error: z.ZodError): InputError {
  const issue = error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  if (issue.code === 'custom')
    return new InputError(
      issue.message,
      (issue.params as Record<string, string | number> | undefined) ?? {},
      field || undefined,
    );
  if (issue.code === 'invalid_type' && issue.input === undefined)
    return new InputError('form.required', {}, field);
  return new InputError('form.invalidField', { field }, field);
}

/** Parses form values by `schema`; throws an InputError (shown by formAction) for the first problem. */
export function parseValues<S extends z.ZodType>(
  values: ReturnType<typeof formValues>,
  schema: S,
): z.output<S> {
  const r = schema.safeParse(values);
  if (!r.success) throw inputErrorOf(r.error);
  return r.data;
}

export const parseFormData = <S extends z.ZodType>(form: FormData, schema: S): z.output<S> =>
  parseValues(formValues(form), schema);

/** The request's form, parsed by `schema`. */
export async function parseForm<S extends z.ZodType>(
  request: Request,
  schema: S,
): Promise<z.output<S>> {
  return parseFormData(await request.formData(), schema);
}
