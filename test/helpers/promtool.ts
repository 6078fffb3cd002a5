import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cacheDir } from '../../infra/binaries';

/**
 * Prometheus's `promtool`: from PATH, else from our cache, else taken out of Debian's prometheus
 * package (downloaded and unpacked, not installed — no daemon starts) into the cache.
 */
export function promtool(): string {
  const onPath = spawnSync('which', ['promtool'], { encoding: 'utf8' });
  if (onPath.status === 0) return onPath.stdout.trim();
  const cached = path.join(cacheDir(), 'promtool-debian');
  if (existsSync(cached)) return cached;
  mkdirSync(cacheDir(), { recursive: true });
  const tmp = mkdtempSync(path.join(cacheDir(), '.promtool-'));
  try {
    const dl = spawnSync('apt-get', ['download', 'prometheus'], { cwd: tmp, encoding: 'utf8' });
    const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download prometheus failed: ${dl.stderr}`);
    const x = spawnSync('dpkg-deb', ['-x', deb, 'x'], { cwd: tmp, encoding: 'utf8' });
    if (x.status !== 0) throw new Error(`dpkg-deb -x failed: ${x.stderr}`);
    renameSync(path.join(tmp, 'x/usr/bin/promtool'), cached);
    return cached;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
