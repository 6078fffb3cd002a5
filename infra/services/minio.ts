import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { waitFor, type ProcessGroup } from '../processes';

export interface MinioOptions {
  bin: string;
  dataDir: string;
  port: number;
  consolePort: number;
  accessKey: string;
  secretKey: string;
}

export const MINIO_DRIVES = 4;

/** The environment of every MinIO process we start (one server or a cluster's nodes). */
export const minioEnv = (accessKey: string, secretKey: string): NodeJS.ProcessEnv => ({
  ...process.env,
  MINIO_ROOT_USER: accessKey,
  MINIO_ROOT_PASSWORD: secretKey,
  // Drives on the root filesystem are refused outside CI/CD mode.
  MINIO_CI_CD: '1',
  MINIO_UPDATE: 'off',
  MINIO_CALLHOME_ENABLE: 'off',
});

/** MinIO on loopback, erasure-coded over four drive directories (EC:2 — survives two lost drives). */
export async function startMinio(group: ProcessGroup, o: MinioOptions): Promise<void> {
  const drives = Array.from({ length: MINIO_DRIVES }, (_, i) =>
    path.join(o.dataDir, `drive${i + 1}`),
  );
  drives.forEach((d) => mkdirSync(d, { recursive: true }));
  const child = group.start(
    'minio',
    o.bin,
    [
      'server',
      '--quiet',
      '--address',
      `127.0.0.1:${o.port}`,
      '--console-address',
      `127.0.0.1:${o.consolePort}`,
      path.join(o.dataDir, `drive{1...${MINIO_DRIVES}}`),
    ],
    minioEnv(o.accessKey, o.secretKey),
  );
  await waitFor(
    'MinIO',
    async () =>
      (await fetch(`http://127.0.0.1:${o.port}/minio/health/cluster`)).ok ? true : undefined,
    60_000,
    child,
  );
}
