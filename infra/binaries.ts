import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Finds or builds the Go binaries the stack runs. Order: env var, PATH, our cache outside the
 * repository, then `go install` at a pinned version into that cache. Nothing is downloaded but Go
 * modules through the Go module proxy.
 */

export interface BinarySpec {
  name: 'temporal' | 'minio';
  envVar: string;
  module: string;
  version: string;
}

export const BINARIES: Record<BinarySpec['name'], BinarySpec> = {
  temporal: {
    name: 'temporal',
    envVar: 'TEMPORAL_CLI',
    module: 'github.com/temporalio/cli/cmd/temporal',
    version: 'v1.5.1',
  },
  // `@latest` resolved to this pseudo-version on 2026-11-27; pinned so every machine runs the same MinIO.
  minio: {
    name: 'minio',
    envVar: 'MINIO_BIN',
    module: 'github.com/minio/minio',
    version: 'v0.0.0-20260212201848-7aac2a2c5b7c',
  },
};

export function cacheDir(): string {
  const base =
    process.env.MAILREPO_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'mailrepo');
  return path.join(base, 'bin');
}

const isExecutable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && isExecutable(p)) return p;
  }
  return undefined;
}

export function cachedPath(spec: BinarySpec): string {
  return path.join(cacheDir(), `${spec.name}-${spec.version}`);
}

/** Where the binary is, without building it; undefined when it would have to be built. */
export function findBinary(spec: BinarySpec): { path: string; source: string } | undefined {
  const fromEnv = process.env[spec.envVar];
  if (fromEnv) {
    if (!isExecutable(fromEnv))
      throw new Error(`${spec.envVar}=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: spec.envVar };
  }
  const fromPath = onPath(spec.name);
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const cached = cachedPath(spec);
  if (isExecutable(cached)) return { path: cached, source: 'cache' };
  return undefined;
}

function goBinary(): string | undefined {
  const fromRoot = path.join(process.env.GOROOT ?? '/usr/local/go', 'bin', 'go');
  return onPath('go') ?? (isExecutable(fromRoot) ? fromRoot : undefined);
}

async function build(spec: BinarySpec, log: (line: string) => void): Promise<string> {
  const go = goBinary();
  if (!go) {
    throw new Error(
      `${spec.name} was not found and cannot be built: Go is not installed.\n` +
        `Install Go 1.22 or newer (Debian: apt-get install golang-go, or a Go toolchain in /usr/local/go),\n` +
        `or install ${spec.name} yourself and set ${spec.envVar}=/path/to/${spec.name} (or put it on PATH).`,
    );
  }
  mkdirSync(cacheDir(), { recursive: true });
  // Build into a private directory and rename: two concurrent builds never leave a half binary.
  const tmp = mkdtempSync(path.join(cacheDir(), `.build-${spec.name}-`));
  const started = Date.now();
  let packages = 0;
  log(
    `building ${spec.module}@${spec.version} with go install (a cold build takes several minutes)`,
  );
  const ticker = setInterval(() => {
    log(
      `still building ${spec.name}: ${Math.round((Date.now() - started) / 1000)}s, ${packages} packages compiled`,
    );
  }, 15_000);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(go, ['install', '-v', `${spec.module}@${spec.version}`], {
        env: { ...process.env, GOBIN: tmp, CGO_ENABLED: process.env.CGO_ENABLED ?? '0' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let tail = '';
      child.stderr.on('data', (d: Buffer) => {
        const text = d.toString();
        tail = (tail + text).slice(-4000);
        for (const line of text.split('\n')) {
          if (line.startsWith('go: downloading')) continue;
          if (line.trim()) packages++;
        }
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`go install ${spec.module} failed (exit ${code}):\n${tail}`)),
      );
    });
    const target = cachedPath(spec);
    renameSync(path.join(tmp, spec.name), target);
    log(`built ${spec.name} in ${Math.round((Date.now() - started) / 1000)}s → ${target}`);
    return target;
  } finally {
    clearInterval(ticker);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Finds every binary, building the missing ones in parallel. */
export async function ensureBinaries(
  log: (line: string) => void = console.log,
): Promise<Record<BinarySpec['name'], string>> {
  const specs = Object.values(BINARIES);
  const paths = await Promise.all(
    specs.map(async (spec) => {
      const found = findBinary(spec);
      if (found) return found.path;
      return build(spec, (l) => log(`[${spec.name}] ${l}`));
    }),
  );
  return Object.fromEntries(specs.map((s, i) => [s.name, paths[i]])) as Record<
    BinarySpec['name'],
    string
  >;
}
