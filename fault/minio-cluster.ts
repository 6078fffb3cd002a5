import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePorts, ProcessGroup, waitFor } from '../infra/processes';
import { minioEnv } from '../infra/services/minio';

/**
 * MinIO distributed over four nodes on 127.0.0.1–127.0.0.4 (one drive each, so EC:2: any node may
 * fail for writes, any two for reads), every node a process of its own that can be killed.
 */
export interface MinioCluster {
  /** Node 1's S3 endpoint (a load balancer's job in production). */
  endpoint: string;
  kill(node: 1 | 2 | 3 | 4): Promise<void>;
  stop(): Promise<void>;
}

export async function startMinioCluster(o: {
  bin: string;
  dataDir: string;
  accessKey: string;
  secretKey: string;
}): Promise<MinioCluster> {
  const ports = await freePorts(8);
  const nodes = [1, 2, 3, 4] as const;
  const endpoints = nodes.map(
    (n) => `http://127.0.0.${n}:${ports[n - 1]}${path.join(o.dataDir, `node${n}`)}`,
  );
  const group = new ProcessGroup({ quiet: true, onUnexpectedExit: () => {} });
  for (const n of nodes) {
    mkdirSync(path.join(o.dataDir, `node${n}`), { recursive: true });
    group.start(
      `minio-${n}`,
      o.bin,
      [
        'server',
        '--quiet',
        '--address',
        `127.0.0.${n}:${ports[n - 1]}`,
        '--console-address',
        `127.0.0.${n}:${ports[n + 3]}`,
        ...endpoints,
      ],
      {
        ...minioEnv(o.accessKey, o.secretKey),
        // In a container MinIO cannot tell which loopback endpoint is its own; this says it.
        _MINIO_SERVER_LOCAL: `127.0.0.${n}:${ports[n - 1]}`,
      },
    );
  }
  const endpoint = `http://127.0.0.1:${ports[0]}`;
  await waitFor(
    'MinIO cluster',
    async () =>
      (await fetch(`${endpoint}/minio/health/cluster`).catch(() => undefined))?.ok
        ? true
        : undefined,
    120_000,
  );
  return {
    endpoint,
    // kill -9: the node vanishes mid-request, as a crashed machine does.
    kill: (node) => group.kill(`minio-${node}`),
    stop: () => group.stopAll(),
  };
}
