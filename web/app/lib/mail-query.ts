/**
 * The archive list's form fields (search box plus filters) as one query in the search language
 * (lib/search/query.ts), so links, bookmarks and the search box all mean the same thing.
 */
export const FILTER_FIELDS = ['from', 'to', 'mailbox', 'after', 'before', 'larger'] as const;

const quoted = (v: string) => `"${v.replace(/"/g, '')}"`;

export function composeQuery(params: URLSearchParams): string {
  const parts = [params.get('q')?.trim() ?? ''];
  for (const field of FILTER_FIELDS) {
    const v = params.get(field)?.trim();
    if (v) parts.push(`${field}:${field === 'from' || field === 'to' ? quoted(v) : v}`);
  }
  if (params.get('att') === '1') parts.push('has:attachment');
  return parts.filter(Boolean).join(' ').slice(0, 1000);
}
