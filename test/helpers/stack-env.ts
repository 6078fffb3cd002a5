import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, tsaRootsPem, tsaUrls, type Config } from '../../lib/config';

/** The integration stack's configuration: the global setup exported its ports into process.env. */
export function stackConfig(overrides: Record<string, string> = {}): Config {
  if (!process.env.TEMPORAL_ADDRESS)
    throw new Error('integration stack not started (run through jest)');
  return loadConfig({ ...process.env, ...overrides });
}

/** The stack's TSAs (two dev TSAs, own roots) as checkpoint rounds take them. */
export const stackTsas = (cfg: Config) => {
  const caPem = tsaRootsPem(cfg);
  return tsaUrls(cfg).map((url) => ({ url, caPem }));
};

/** The first dev TSA alone. */
export const firstTsa = (cfg: Config) => stackTsas(cfg)[0]!;

let rootsFile: string | undefined;
/** Both dev TSAs' roots in one PEM file (openssl -CAfile), written once per test process. */
export function tsaRootsFile(cfg: Config): string {
  if (rootsFile) return rootsFile;
  rootsFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'mailrepo-tsa-roots-')), 'roots.pem');
  writeFileSync(rootsFile, tsaRootsPem(cfg));
  return rootsFile;
}
