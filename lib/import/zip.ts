import { Unzip, UnzipInflate } from 'fflate';
import { tooLarge, type EntryProblem } from './entry';

/**
 * Reads a ZIP of `.eml` files as a stream (fflate's streaming Unzip): each `push` returns the
 * entries completed by that chunk. Directories and macOS resource forks are passed over; anything
 * else that is not a readable `.eml` comes back with the reason, so the import can report it.
 */

export type ZipEntry =
  | { index: number; name: string; bytes: Buffer }
  | { index: number; name: string; problem: EntryProblem };

const SLICE = 16 * 1024;
const IGNORED = /(^|\/)(__MACOSX\/|\.DS_Store$)|\/$/;

export class ZipSplitter {
  private readonly unzip = new Unzip();
  private ready: ZipEntry[] = [];
  private count = 0;

  constructor(private readonly maxBytes: number) {
    this.unzip.register(UnzipInflate);
    this.unzip.onfile = (file) => {
      if (IGNORED.test(file.name)) return;
      const index = this.count++;
      const name = file.name;
      if (!/\.eml$/i.test(name)) {
        this.ready.push({ index, name, problem: { reason: 'import.skip.notEml' } });
        return;
      }
      // A declared size past the limit is refused before a byte is inflated; a lying one is
      // caught while inflating (below).
      if ((file.originalSize ?? 0) > this.maxBytes) {
        this.ready.push({ index, name, problem: tooLarge(this.maxBytes) });
        return;
      }
      if (file.compression !== 0 && file.compression !== 8) {
        this.ready.push({
          index,
          name,
          problem: { reason: 'import.skip.compression', params: { method: file.compression } },
        });
        return;
      }
      const parts: Uint8Array[] = [];
      let size = 0;
      let failed = false;
      file.ondata = (err, chunk, final) => {
        if (failed) return;
        if (err) {
          failed = true;
          this.ready.push({ index, name, problem: { reason: 'import.skip.inflate' } });
          return;
        }
        size += chunk.length;
        if (size > this.maxBytes) {
          failed = true;
          file.terminate();
          this.ready.push({
            index,
            name,
            problem: tooLarge(this.maxBytes),
          });
          return;
        }
        parts.push(chunk);
        if (final) this.ready.push({ index, name, bytes: Buffer.concat(parts) });
      };
      try {
        file.start();
      } catch {
        failed = true;
        this.ready.push({
          index,
          name,
          problem: { reason: 'import.skip.inflate' },
        });
      }
    };
  }

  /** Throws when the container itself is damaged (no further entries can be found). */
  push(chunk: Uint8Array, final = false): ZipEntry[] {
    // In slices: DEFLATE expands up to ~1:1032, so one push never inflates more than ~16 MiB
    // before the size check above sees it.
    if (!chunk.length) this.unzip.push(chunk, final);
    for (let at = 0; at < chunk.length; at += SLICE)
      this.unzip.push(chunk.subarray(at, at + SLICE), final && at + SLICE >= chunk.length);
    const out = this.ready;
    this.ready = [];
    return out;
  }
}
