/** A TSA as metrics, doctor and messages name it: host and path (never credentials). */
export const tsaLabel = (url: string): string => {
  const u = new URL(url);
  return `${u.host}${u.pathname}`;
};
