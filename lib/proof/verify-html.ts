import { readFileSync } from 'node:fs';
import path from 'node:path';
import { strToU8 } from 'fflate';
import { BundleFile } from './bundle-layout';

/**
 * verify.html for one bundle (issue 23 §4): the self-contained verifier in assets/ with the
 * bundle's own files inside it, so an auditor opens it in any current browser — no network, no
 * external script — drops the mail in and sees each step hold or fail, named as `mailrepo verify`
 * and verify.py name them.
 */

const TEMPLATE = path.join(__dirname, 'assets', 'verify.html');
/** What the page does not need: itself, the other verifiers and the instructions. */
const LEFT_OUT = new Set<string>([BundleFile.html, BundleFile.script, BundleFile.instructions]);

export function renderVerifyHtml(files: Record<string, Uint8Array>): Uint8Array {
  const embedded = Object.fromEntries(
    Object.entries(files)
      .filter(([name]) => !LEFT_OUT.has(name))
      .map(([name, bytes]) => [name, Buffer.from(bytes).toString('base64')]),
  );
  // Base64 and these file names hold no "<": the JSON cannot end the script element early.
  const json = JSON.stringify({ files: embedded });
  if (json.includes('<')) throw new Error('a bundle file name would break verify.html');
  return strToU8(readFileSync(TEMPLATE, 'utf8').replace('{{BUNDLE_JSON}}', json));
}
