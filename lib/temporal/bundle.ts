import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { repoRoot } from '../config';
import { failureConverterPath } from './data-converter';

export const workflowsPath = path.join(repoRoot, 'workflows', 'index.ts');

/**
 * Bundles workflow code once, ahead of the worker's start, so workers start fast and every worker
 * process runs byte-identical workflow code. Returns the bundle's path.
 */
export async function writeWorkflowBundle(dataDir: string): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    failureConverterPath,
    logger: {
      log() {},
      trace() {},
      debug() {},
      info() {},
      warn: console.warn,
      error: console.error,
    },
  });
  const out = path.join(dataDir, 'workflow-bundle.js');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(out, code);
  return out;
}
