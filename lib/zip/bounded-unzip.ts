import { Unzip, UnzipInflate } from 'fflate';

/**
 * Unzips a small archive held in memory (a proof bundle) within limits checked while it
 * inflates (issue 17 §2): the number of entries, each entry's declared and actually inflated
 * size, and the total. The compressed bytes are fed in small slices, so a bomb is stopped after
 * at most about a megabyte past a limit (DEFLATE expands at most ~1:1032), never after the whole.
 */
export class ZipLimitError extends Error {
  override name = 'ZipLimitError';
}

export interface ZipLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
}

const SLICE = 1024;

export function boundedUnzip(zip: Uint8Array, limits: ZipLimits): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  let entries = 0;
  let total = 0;
  let failure: Error | undefined;
  const unzip = new Unzip((file) => {
    if (failure) return;
    if (++entries > limits.maxEntries) {
      failure = new ZipLimitError(`more than ${limits.maxEntries} entries`);
      return;
    }
    if ((file.originalSize ?? 0) > limits.maxEntryBytes) {
      failure = new ZipLimitError(`${file.name} declares ${file.originalSize} bytes`);
      return;
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    file.ondata = (err, chunk, final) => {
      if (failure) return;
      if (err) {
        failure = err;
        return;
      }
      size += chunk.length;
      total += chunk.length;
      if (size > limits.maxEntryBytes || total > limits.maxTotalBytes) {
        failure = new ZipLimitError(`${file.name} inflates past the limit`);
        file.terminate();
        return;
      }
      chunks.push(chunk);
      if (final) files[file.name] = Buffer.concat(chunks);
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  for (let at = 0; at < zip.length && !failure; at += SLICE)
    unzip.push(zip.subarray(at, at + SLICE), at + SLICE >= zip.length);
  if (failure) throw failure;
  if (!entries) throw new ZipLimitError('not a ZIP archive');
  return files;
}
