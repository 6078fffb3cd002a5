import { decompressRTF } from '@kenjiuno/decompressrtf';
import { unzipSync } from 'fflate';
import { OfficeParser, type OfficeParserAST } from 'officeparser';
import type { DocumentKind } from './document-kind';

/**
 * The text of one document (PDF, Office, OpenDocument, RTF; the file names of a ZIP), read by
 * officeparser under limits of its own on top of the thread's (extractor.ts): ZIP inflation,
 * entries, XML elements and table cells for the ZIP-based formats; pdf.js in a separate process
 * with a memory and CPU-time limit, and limits on text items. Runs on an extraction thread.
 */

/**
 * What the extractor reads: a document, or the compressed RTF body of a winmail.dat (MS-OXRTFCP),
 * which is decompressed here, on the thread, since its output is up to 8× its input.
 */
export type ExtractKind = DocumentKind | 'compressed-rtf';

export interface DocumentText {
  /** Text per page for PDF; one entry for other formats. */
  pages: { page?: number; text: string }[];
  /** Cut at the character limit, or a parser limit stopped reading part of it. */
  truncated: boolean;
}

/** Why a part has no text in the index; shown on the mail page. */
export type UnreadableReason =
  'encrypted' | 'limit' | 'damaged' | 'timeout' | 'too-large' | 'memory';

export class UnreadableDocument extends Error {
  override name = 'UnreadableDocument';
  constructor(
    readonly reason: UnreadableReason,
    message: string,
  ) {
    super(message);
  }
}

/** Parser limits. A real document stays far below; a bomb stops at them. */
export const PARSER_LIMITS = {
  /** Bytes a ZIP-based document may inflate to. */
  maxUncompressedBytes: 128 * 2 ** 20,
  maxZipEntries: 5_000,
  maxXmlElements: 2_000_000,
  maxTableCells: 500_000,
  /** Heap of the pdf.js process, and its CPU time base (plus 20 ms per KB). */
  pdfMemoryMb: 512,
  pdfTimeMs: 10_000,
  /** File names listed from a ZIP archive. */
  maxZipNames: 10_000,
};

const ENCRYPTED = new Set([
  'PASSWORD_REQUIRED',
  'PASSWORD_INCORRECT',
  'DOCUMENT_DECRYPTION_FAILED',
]);
const LIMITS = new Set([
  'ZIP_ENTRY_COUNT_LIMIT_EXCEEDED',
  'ZIP_SIZE_LIMIT_EXCEEDED',
  'ZIP_ENTRY_INVALID_SIZE',
  'XML_ELEMENT_LIMIT_EXCEEDED',
  'MAX_NESTING_DEPTH_EXCEEDED',
  'OUTPUT_TOO_LARGE',
  'PDF_PROCESS_FAILED',
]);

export async function documentText(
  data: Uint8Array,
  kind: ExtractKind,
  maxChars: number,
): Promise<DocumentText> {
  if (kind === 'compressed-rtf') return documentText(rtfOf(data), 'rtf', maxChars);
  if (kind === 'zip') return cut([{ text: zipNames(data).join('\n') }], maxChars, false);
  let truncated = false;
  let ast: OfficeParserAST;
  try {
    ast = await OfficeParser.parseOffice(Buffer.from(data.buffer, data.byteOffset, data.length), {
      fileType: kind,
      ocr: false,
      extractAttachments: false,
      includeRawContent: false,
      ignoreComments: false,
      // A password-protected document is listed as encrypted; we never guess passwords.
      onPassword: () => undefined,
      onWarning: (issue) => {
        if (issue.code === 'PDF_CONTENT_LIMIT_EXCEEDED') truncated = true;
      },
      decompressionLimits: {
        maxUncompressedBytes: PARSER_LIMITS.maxUncompressedBytes,
        maxZipEntries: PARSER_LIMITS.maxZipEntries,
        maxXmlElements: PARSER_LIMITS.maxXmlElements,
        maxTableCells: PARSER_LIMITS.maxTableCells,
      },
      pdfParserConfig: {
        separateProcess: true,
        processMemoryMb: PARSER_LIMITS.pdfMemoryMb,
        maxTimeMs: PARSER_LIMITS.pdfTimeMs,
        extractTextColor: false,
      },
    });
  } catch (err) {
    const code = (err as { officeIssue?: { code?: string } }).officeIssue?.code ?? '';
    const message = err instanceof Error ? err.message : String(err);
    if (ENCRYPTED.has(code)) throw new UnreadableDocument('encrypted', message);
    if (LIMITS.has(code)) throw new UnreadableDocument('limit', message);
    throw new UnreadableDocument('damaged', message);
  }
  const pages =
    kind === 'pdf'
      ? ast.content
          .filter((node) => node.type === 'page')
          .map((node) => ({
            page: (node.metadata as { pageNumber?: number } | undefined)?.pageNumber,
            text: node.text ?? '',
          }))
      : [{ text: String((await ast.to('text')).value) }];
  return cut(pages, maxChars, truncated);
}

/** The file names in a ZIP archive, from its directory (nothing is inflated). */
function zipNames(data: Uint8Array): string[] {
  const names: string[] = [];
  try {
    unzipSync(data, {
      filter: (file) => {
        if (names.length >= PARSER_LIMITS.maxZipNames)
          throw new UnreadableDocument('limit', 'too many entries');
        names.push(file.name);
        return false;
      },
    });
  } catch (err) {
    if (err instanceof UnreadableDocument) throw err;
    throw new UnreadableDocument('damaged', err instanceof Error ? err.message : String(err));
  }
  return names;
}

/**
 * The RTF in a compressed RTF blob. The decompressor trusts the header's size and reads past the
 * end (as zeros) up to it: the size must be the blob's own.
 */
function rtfOf(data: Uint8Array): Uint8Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 16 || view.getUint32(0, true) + 4 !== data.length)
    throw new UnreadableDocument('damaged', 'compressed RTF: size does not match');
  try {
    return Uint8Array.from(decompressRTF(Array.from(data)));
  } catch (err) {
    throw new UnreadableDocument('damaged', err instanceof Error ? err.message : String(err));
  }
}

function cut(pages: DocumentText['pages'], maxChars: number, truncated: boolean): DocumentText {
  const out: DocumentText['pages'] = [];
  let left = maxChars;
  for (const p of pages) {
    if (left <= 0) return { pages: out, truncated: true };
    const text = p.text.length > left ? p.text.slice(0, left) : p.text;
    left -= text.length;
    out.push(p.page === undefined ? { text } : { page: p.page, text });
    if (text.length < p.text.length) truncated = true;
  }
  return { pages: out, truncated };
}
