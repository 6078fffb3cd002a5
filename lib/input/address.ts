/**
 * E-mail addresses and domains as people type them into forms: trimmed and lower-cased, any
 * letters (müller-bau.de, IDN), but no white space, control characters or the punctuation that
 * separates addresses in headers. Both forms below come back normalised, or undefined when no
 * mail could ever carry them.
 */
const LOCAL = /^[^\s\p{Cc}\p{Cf}@<>()[\]\\,;:"]{1,64}$/u;
const DOMAIN = /^(?=.{1,253}$)[^\s\p{Cc}\p{Cf}@<>()[\]\\,;:"]+$/u;

export function normalizeAddress(input: string): string | undefined {
  const v = input.trim().toLowerCase();
  const at = v.indexOf('@');
  if (at <= 0 || v.length > 320) return undefined;
  return LOCAL.test(v.slice(0, at)) && DOMAIN.test(v.slice(at + 1)) ? v : undefined;
}

/** `name@firma.de` or a whole domain written `@firma.de`. */
export function normalizeAddressOrDomain(input: string): string | undefined {
  const v = input.trim().toLowerCase();
  if (v.startsWith('@')) return DOMAIN.test(v.slice(1)) ? v : undefined;
  return normalizeAddress(v);
}
