import path from 'node:path';
import { ThreadPool, type ThreadFailure } from '../process/thread-pool';
import type { DocumentText, ExtractKind, UnreadableReason } from './document-text';

/**
 * Reads text out of attachments on threads with limits per part (issue 20): the input's size is
 * checked before a thread sees it, the thread's heap is capped (`resourceLimits`), and a part
 * that takes longer than `timeoutMs` ends its thread (a looping parser is stopped, not waited
 * for); officeparser adds limits of its own (document-text.ts). A part that cannot be read is an
 * answer, not an error: the mail is indexed with everything else and the reason is shown.
 * Plaintext stays in this process, as for the merge threads (decision 0021).
 */

export type PartText =
  ({ ok: true } & DocumentText) | { ok: false; reason: UnreadableReason; detail?: string };

export interface ExtractionLimits {
  /** Largest part handed to a parser. */
  maxInputBytes: number;
  /** Time one part may take, from when a thread starts on it. */
  timeoutMs: number;
  /** Old-generation heap of each thread. */
  heapMb: number;
  /** Threads at most. */
  threads: number;
}

export const DEFAULT_EXTRACTION_LIMITS: ExtractionLimits = {
  maxInputBytes: 32 * 2 ** 20,
  timeoutMs: 30_000,
  heapMb: 512,
  threads: 1,
};

interface Answer {
  text?: DocumentText;
  unreadable?: UnreadableReason;
  detail?: string;
}

export class DocumentExtractor {
  private readonly pool: ThreadPool<
    { data: Uint8Array; kind: ExtractKind; maxChars: number },
    Answer
  >;

  constructor(readonly limits: ExtractionLimits = DEFAULT_EXTRACTION_LIMITS) {
    this.pool = new ThreadPool({
      module: path.join(__dirname, 'extraction-thread'),
      lanes: limits.threads,
      timeoutMs: limits.timeoutMs,
      resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, maxYoungGenerationSizeMb: 32 },
    });
  }

  /** The text of one part, at most `maxChars` characters. Never rejects. */
  async extract(data: Uint8Array, kind: ExtractKind, maxChars: number): Promise<PartText> {
    if (data.length > this.limits.maxInputBytes) return { ok: false, reason: 'too-large' };
    if (maxChars <= 0) return { ok: true, pages: [], truncated: true };
    try {
      const m = await this.pool.run({ data, kind, maxChars });
      if (m.text) return { ok: true, ...m.text };
      return {
        ok: false,
        reason: m.unreadable ?? 'damaged',
        ...(m.detail ? { detail: m.detail } : {}),
      };
    } catch (e) {
      const failure = e as ThreadFailure;
      // A stuck or spent thread was ended; a thread that died otherwise could not read it.
      const reason =
        failure.kind === 'timeout' ? 'timeout' : failure.kind === 'memory' ? 'memory' : 'damaged';
      return { ok: false, reason, detail: failure.message };
    }
  }

  /** Ends every thread; parts in flight answer `damaged` (they were not read). */
  close(): Promise<void> {
    return this.pool.close();
  }
}
