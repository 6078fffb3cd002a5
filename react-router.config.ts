import type { Config } from '@react-router/dev/config';

// The portal (web/app) in framework mode, server-rendered; web/server.ts serves the build on
// Express. Tests and the dev stack build into their own directory (PORTAL_BUILD_DIR).
export default {
  appDirectory: 'web/app',
  buildDirectory: process.env.PORTAL_BUILD_DIR ?? 'build/portal',
  // The package is CommonJS; the server build is ESM and says so by its extension.
  serverBuildFile: 'index.mjs',
  ssr: true,
} satisfies Config;
