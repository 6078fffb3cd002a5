import { spawn } from 'node:child_process';

/**
 * Text recognition for scans (issue 20 §1, decision 0022): images, and PDFs that hold pictures of
 * text but no text, by Tesseract in German and English — only for tenants that switched it on.
 * Both tools run as child processes under an address-space limit and a time limit, and nothing
 * touches disk: the PDF goes to pdftoppm on stdin, each page comes back as an image on stdout and
 * goes to Tesseract on stdin, whose text comes back on stdout.
 */

export const OCR_LIMITS = {
  /** Pages of one PDF that are recognised; the rest are left (the part says truncated). */
  pages: 20,
  /** Time of one page (rendering and recognition each). */
  msPerStep: 60_000,
  /** Address space of each child process. */
  memoryBytes: 2 * 2 ** 30,
  /** The longer side of a rendered page in pixels (≈ 300 dpi for A4), whatever its stated size. */
  pixels: 3000,
  /** Bytes a child may answer with (a rendered page, or a page's text). */
  outputBytes: 64 * 2 ** 20,
};

export class OcrFailed extends Error {
  override name = 'OcrFailed';
  constructor(
    readonly reason: 'timeout' | 'memory' | 'damaged' | 'missing',
    message: string,
  ) {
    super(message);
  }
}

/** Runs `cmd` under the limits with `input` on stdin; its stdout. */
function run(cmd: string, args: string[], input: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'prlimit',
      [`--as=${OCR_LIMITS.memoryBytes}`, '--', cmd, ...args],
      // One thread each: the index job runs several extractions at once already.
      { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH, OMP_THREAD_LIMIT: '1' } },
    );
    const out: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failed: OcrFailed | undefined;
    const timer = setTimeout(() => {
      failed = new OcrFailed('timeout', `${cmd} took longer than ${OCR_LIMITS.msPerStep} ms`);
      child.kill('SIGKILL');
    }, OCR_LIMITS.msPerStep);
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > OCR_LIMITS.outputBytes) {
        failed ??= new OcrFailed('memory', `${cmd} answered more than the limit`);
        child.kill('SIGKILL');
      } else out.push(c);
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 2000) stderr += c.toString('utf8');
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new OcrFailed('missing', `${cmd}: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failed) return reject(failed);
      if (code === 0) return resolve(Buffer.concat(out));
      // prlimit could not start the tool (not installed); the tool's own complaints are damage.
      const missing = code === 127 || /^prlimit: failed to execute/m.test(stderr);
      reject(
        new OcrFailed(
          missing ? 'missing' : /alloc|memory/i.test(stderr) ? 'memory' : 'damaged',
          `${cmd} exited with ${code}: ${stderr.slice(0, 200)}`,
        ),
      );
    });
    // A child that stops reading early (a damaged image) closes its stdin: not our failure.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** The text Tesseract reads in one image (PNG, JPEG, TIFF, GIF, BMP, WebP). */
export async function ocrImage(image: Uint8Array): Promise<string> {
  const text = await run('tesseract', ['stdin', 'stdout', '-l', 'deu+eng', 'quiet'], image);
  return text.toString('utf8');
}

/** The text of each page of a PDF, rendered page by page; up to `OCR_LIMITS.pages` pages. */
export async function ocrPdf(
  pdf: Uint8Array,
  pages: number,
): Promise<{ pages: { page: number; text: string }[]; truncated: boolean }> {
  const out: { page: number; text: string }[] = [];
  const last = Math.min(pages, OCR_LIMITS.pages);
  for (let page = 1; page <= last; page++) {
    const png = await run(
      'pdftoppm',
      ['-f', String(page), '-l', String(page), '-png', '-gray', '-scale-to', String(OCR_LIMITS.pixels), '-'], // prettier-ignore
      pdf,
    );
    out.push({ page, text: await ocrImage(png) });
  }
  return { pages: out, truncated: pages > last };
}
