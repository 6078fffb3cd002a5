/** A same-site path to return to (never an absolute URL: no open redirect). Client and server. */
export const safePath = (v: unknown, fallback = '/'): string =>
  typeof v === 'string' && /^\/(?![/\\])/.test(v) ? v : fallback;
