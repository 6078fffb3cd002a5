/**
 * Which attachments give text, and where (decision 0022): forwarded mails, text, CSV and HTML at
 * ingest (`textKind`); formats that need a parser of their own in the index job (`documentKind`),
 * told by content type or, for the generic application types many clients send, by file
 * name.
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
  // A declared image, text, audio or video type wins over the name. Other application types defer
  // to it: mail programs label Office files application/msword, application/x-download,
  // application/force-download and the like whatever they hold.
  if (type && !type.startsWith('application/') && type !== 'binary/octet-stream') return undefined;
  const extension = /\.([a-z0-9]{1,5})$/i.exec(fileName ?? '')?.[1]?.toLowerCase();
  return extension ? BY_EXTENSION[extension] : undefined;
}

const MAIL_TYPES = new Set(['message/rfc822', 'message/global']);

/** Which attachments give text at ingest; PDF, office files and images do not. */
export function textKind(
  contentType: string | undefined,
  filename: string | undefined,
): 'mail' | 'text' | 'html' | undefined {
  const type = (contentType ?? '').toLowerCase();
  const ext = /\.([a-z0-9]+)$/i.exec(filename ?? '')?.[1]?.toLowerCase();
  if (MAIL_TYPES.has(type) || ext === 'eml') return 'mail';
  if (type === 'text/html' || ext === 'html' || ext === 'htm') return 'html';
  if (type.startsWith('text/') || ext === 'txt' || ext === 'csv') return 'text';
  return undefined;
}

/** Outlook's TNEF wrapper (`winmail.dat`): its attachments are read like the mail's own. */
export function isTnef(
  contentType: string | null | undefined,
  fileName: string | null | undefined,
) {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return (
    type === 'application/ms-tnef' ||
    type === 'application/vnd.ms-tnef' ||
    (fileName ?? '').trim().toLowerCase() === 'winmail.dat'
  );
}

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/jpg', 'image/pjpeg', 'image/tiff', 'image/gif', 'image/bmp', 'image/webp']); // prettier-ignore
const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'tif', 'tiff', 'gif', 'bmp', 'webp']);

/** An image text recognition can read (for tenants that switched it on). */
export function isImage(
  contentType: string | null | undefined,
  fileName: string | null | undefined,
): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (IMAGE_TYPES.has(type)) return true;
  if (type && !type.startsWith('application/') && type !== 'binary/octet-stream') return false;
  const extension = /\.([a-z0-9]{1,5})$/i.exec(fileName ?? '')?.[1]?.toLowerCase();
  return !!extension && IMAGE_EXTENSIONS.has(extension);
}
