#!/usr/bin/env node
// The `mailrepo` command (package.json "bin"). In production (NODE_ENV=production) it runs the
// compiled CLI of `npm run build`; elsewhere the TypeScript sources through tsx, so a developer
// never runs a stale build by accident.
const { existsSync } = require('node:fs');
const path = require('node:path');

const compiled = path.join(__dirname, '..', 'build', 'dist', 'workers', 'cli.js');
if (process.env.NODE_ENV === 'production') {
  if (!existsSync(compiled)) {
    console.error(`mailrepo: ${compiled} is missing; run npm run build`);
    process.exit(1);
  }
  require(compiled);
} else {
  require('tsx/cjs');
  require('../workers/cli.ts');
}
