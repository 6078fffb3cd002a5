import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The checkout (or release directory) that holds package.json: found by walking up, because this
 * file runs from `lib/config/` in development and from `build/dist/lib/config/` once compiled.
 */
export function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && isOurs(manifest)) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no mailrepo package.json above ${from}`);
  }
}

function isOurs(manifest: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'mailrepo';
  } catch {
    return false;
  }
}
