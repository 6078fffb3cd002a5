import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BINARIES, cachedPath, ensureBinaries, findBinary } from '../../infra/binaries';

describe('finding the Temporal CLI and MinIO', () => {
  const saved = { ...process.env };
  let dir: string;
  const exe = (p: string) => {
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, '#!/bin/sh\necho fake\n');
    chmodSync(p, 0o755);
    return p;
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mailrepo-bin-'));
    process.env = {
      ...saved,
      PATH: path.join(dir, 'empty-path'),
      MAILREPO_CACHE_DIR: path.join(dir, 'cache'),
      GOROOT: path.join(dir, 'no-go'),
    };
    delete process.env.TEMPORAL_CLI;
    delete process.env.MINIO_BIN;
  });
  afterEach(() => {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the env var first, then PATH, then the cache', () => {
    const cached = exe(cachedPath(BINARIES.temporal));
    expect(findBinary(BINARIES.temporal)).toEqual({ path: cached, source: 'cache' });
    const onPath = exe(path.join(dir, 'empty-path', 'temporal'));
    expect(findBinary(BINARIES.temporal)).toEqual({ path: onPath, source: 'PATH' });
    process.env.TEMPORAL_CLI = exe(path.join(dir, 'custom', 'temporal-cli'));
    expect(findBinary(BINARIES.temporal)).toEqual({
      path: process.env.TEMPORAL_CLI,
      source: 'TEMPORAL_CLI',
    });
  });

  it('refuses an env var that names no executable', () => {
    process.env.MINIO_BIN = path.join(dir, 'missing');
    expect(() => findBinary(BINARIES.minio)).toThrow(/MINIO_BIN=.* is not an executable/);
  });

  it('keeps cached builds outside the repository, versioned', () => {
    expect(cachedPath(BINARIES.temporal)).toBe(path.join(dir, 'cache', 'bin', 'temporal-v1.5.1'));
    expect(
      path.relative(path.resolve(__dirname, '../..'), cachedPath(BINARIES.minio)).startsWith('..'),
    ).toBe(true);
  });

  it('without Go and without a binary, says exactly what to install', async () => {
    exe(cachedPath(BINARIES.temporal));
    const err = await ensureBinaries(() => {}).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /minio was not found and cannot be built: Go is not installed/,
    );
    expect((err as Error).message).toMatch(/Install Go/);
    expect((err as Error).message).toMatch(/MINIO_BIN/);
  });
});
