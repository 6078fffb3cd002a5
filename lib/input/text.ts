import { InputError } from './input-error';

/**
 * Free text a person typed (a reason, a search): trimmed, at most `max` characters, and no control
 * characters but tab and line breaks — PostgreSQL refuses NUL in text, and nothing else belongs in
 * an audit record a person reads later.
 */
export function formText(
  value: string,
  opts: { field: string; max: number; required?: boolean; missing?: string },
): string {
  const v = value.trim();
  if (!v && opts.required) throw new InputError(opts.missing ?? 'form.required', {}, opts.field);
  if (v.length > opts.max) throw new InputError('form.tooLong', { max: opts.max }, opts.field);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v))
    throw new InputError('form.controlChars', {}, opts.field);
  return v;
}
