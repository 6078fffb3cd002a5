import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './config';
import { currentBuild } from './process/build-info';

/** The product version, from package.json (shown by the portal, the LMTP banner and doctor). */
export const version: string = (
  JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }
).version;

/** The build this process runs (`npm run build`), or `source` when it runs from TypeScript. */
export const buildId: string = currentBuild()?.build.buildId ?? 'source';
