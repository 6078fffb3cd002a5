import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * What `npm run build` (infra/build.ts) records next to the JavaScript it compiled: the build's
 * id, and the SHA-256 of the workflow bundle it made, so that a worker never runs workflow code
 * from another build (issue 18 §2). Running from TypeScript sources (tsx, Jest) there is none.
 */
export const BUILD_INFO_FILE = 'build-info.json';

const buildInfoSchema = z.object({
  buildId: z.string().min(1),
  version: z.string(),
  commit: z.string().nullable(),
  builtAt: z.string(),
  node: z.string(),
  workflowBundle: z.object({ file: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
});
export type BuildInfo = z.infer<typeof buildInfoSchema>;

/** The compiled tree's root (`build/dist`) when this code runs compiled, else undefined. */
export function compiledRoot(file = __filename): string | undefined {
  return file.endsWith('.js') ? path.resolve(path.dirname(file), '..', '..') : undefined;
}

export function readBuildInfo(root: string): BuildInfo {
  const file = path.join(root, BUILD_INFO_FILE);
  if (!existsSync(file))
    throw new Error(`${file} is missing: ${root} is not a complete build (run npm run build)`);
  return buildInfoSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

let current: { build: BuildInfo; root: string } | null | undefined;
/** This process's build, read once; undefined when running from sources. */
export function currentBuild(): { build: BuildInfo; root: string } | undefined {
  if (current === undefined) {
    const root = compiledRoot();
    current = root ? { build: readBuildInfo(root), root } : null;
  }
  return current ?? undefined;
}

export const sha256Hex = (bytes: Uint8Array): string =>
  createHash('sha256').update(bytes).digest('hex');

export class ForeignBundleError extends Error {
  override name = 'ForeignBundleError';
}

/** Throws unless `bundlePath` holds exactly the workflow bundle that `build` made. */
export function checkWorkflowBundle(bundlePath: string, build: BuildInfo): void {
  const found = sha256Hex(readFileSync(bundlePath));
  if (found !== build.workflowBundle.sha256)
    throw new ForeignBundleError(
      `refusing workflow bundle ${bundlePath}: it is not the one build ${build.buildId} made ` +
        `(SHA-256 ${found.slice(0, 16)}…, expected ${build.workflowBundle.sha256.slice(0, 16)}…). ` +
        'Workflow code must come from the same build as the worker: unset WORKFLOW_BUNDLE or run npm run build.',
    );
}
