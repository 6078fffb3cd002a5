import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { repoRoot } from '../config';
import { failureConverterPath } from './data-converter';

export const workflowsPath = path.join(repoRoot, 'workflows', 'index.ts');

/**
 * Bundles workflow code once, ahead of the worker's start, so workers start fast and every worker
 * process runs byte-identical workflow code. The sources' entry by default; the release build
 * passes its compiled entry and failure converter. Returns the bundle's path and bytes.
 */
export async function writeWorkflowBundle(
  dir: string,
  from: { workflowsPath: string; failureConverterPath: string } = {
    workflowsPath,
    failureConverterPath,
  },
): Promise<{ path: string; code: string }> {
  const { code } = await bundleWorkflowCode({
    ...from,
    logger: {
      log() {},
      trace() {},
      debug() {},
      info() {},
      warn: console.warn,
      error: console.error,
    },
  });
  const out = path.join(dir, 'workflow-bundle.js');
  mkdirSync(dir, { recursive: true });
  writeFileSync(out, code);
  return { path: out, code };
}
