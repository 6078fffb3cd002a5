/**
 * Which attachments the index job reads text from (decision 0022): formats that need a parser of
 * their own, told by content type or, for the generic `application/octet-stream` many clients
 * send, by file name. Text, CSV and HTML are read at ingest and are not listed here.
 */

export const DOCUMENT_KINDS = [
  'pdf',
  'docx',
  'xlsx',
  'pptx',
  'odt',
  'ods',
  'odp',
  'rtf',
  'zip',
] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

const BY_TYPE: Record<string, DocumentKind> = {
  'application/pdf': 'pdf',
  'application/x-pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 'pptx',
  'application/vnd.oasis.opendocument.text': 'odt',
  'application/vnd.oasis.opendocument.spreadsheet': 'ods',
  'application/vnd.oasis.opendocument.presentation': 'odp',
  'application/rtf': 'rtf',
  'text/rtf': 'rtf',
  'application/zip': 'zip',
  'application/x-zip-compressed': 'zip',
};

const BY_EXTENSION: Record<string, DocumentKind> = {
  pdf: 'pdf',
  docx: 'docx',
  docm: 'docx',
  xlsx: 'xlsx',
  xlsm: 'xlsx',
  pptx: 'pptx',
  pptm: 'pptx',
  odt: 'odt',
  ods: 'ods',
  odp: 'odp',
  rtf: 'rtf',
  zip: 'zip',
}; // prettier-ignore

/** The kind of document a part is, or undefined when the job has nothing to read in it. */
export function documentKind(
  contentType: string | null | undefined,
  fileName: string | null | undefined,
): DocumentKind | undefined {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const byType = BY_TYPE[type];
  if (byType) return byType;
  // A declared type of its own (an image, text) wins over the name; only generic types defer.
  if (type && type !== 'application/octet-stream') return undefined;
  const extension = /\.([a-z0-9]{1,5})$/i.exec(fileName ?? '')?.[1]?.toLowerCase();
  return extension ? BY_EXTENSION[extension] : undefined;
}
