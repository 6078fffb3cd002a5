/**
 * Where a form may send a person back to (issue 17 §4): only a path of this app — an allow-list
 * of its first segment — parsed the way a browser will parse it, so `/%09/evil.example` (a tab
 * that browsers drop, leaving `//evil.example`), `/\evil`, `//evil` and absolute URLs all fall back.
 * Client and server.
 */
const APP_SECTIONS = new Set([
  '',
  'mail',
  'settings',
  'exports',
  'imports',
  'verify',
  'jobs',
  'audit',
  'reauth',
  'login',
  'setup',
]);
const BASE = 'http://app.invalid';

export function safePath(v: unknown, fallback = '/'): string {
  // No white space, control characters or backslashes at all: browsers strip or reinterpret them.
  // eslint-disable-next-line no-control-regex
  if (typeof v !== 'string' || v.length > 2000 || /[\s\\\u0000-\u001f\u007f]/.test(v))
    return fallback;
  if (!v.startsWith('/') || v.startsWith('//')) return fallback;
  let url: URL;
  try {
    url = new URL(v, BASE);
  } catch {
    return fallback;
  }
  if (url.origin !== BASE) return fallback;
  const section = url.pathname.split('/')[1] ?? '';
  return APP_SECTIONS.has(section) ? `${url.pathname}${url.search}` : fallback;
}
