#!/usr/bin/env node
// Runs before `npm run dev` / `npm test` (npm pre-scripts). Dependency-free on purpose: it must work
// right after `git clone`, before node_modules exists, on the machine's Node (≥ 20.19, enough for
// npm); the project itself then runs on the Node 24 that npm ci installs. Installs exactly the lockfile when
// node_modules is missing or older than package-lock.json; otherwise it costs a few milliseconds.
// With --test-tools (npm test) it also installs the Debian tools the tests drive (system-packages.cjs).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`mailrepo needs Node.js 20.19 or newer; this is ${process.version}.`);
  process.exit(1);
}

const lock = path.join(root, 'package-lock.json');
const marker = path.join(root, 'node_modules', '.package-lock.json');
const mtime = (p) => (fs.existsSync(p) ? fs.statSync(p).mtimeMs : 0);
if (!mtime(marker) || mtime(marker) < mtime(lock)) {
  console.log(
    `Installing dependencies (npm ci) with the machine's Node ${process.version}; npm's EBADENGINE ` +
      'warnings about it are expected: the project then runs on the Node 24 it installs.',
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('npm ci failed; see the output above.');
    process.exit(r.status ?? 1);
  }
}

// The project's runtime: Node 24 from the npm package `node` (lib/process/node-runtime.ts). The
// Node that runs this script only bootstraps npm; npm scripts find node_modules/.bin/node first.
const projectNode = path.join(root, 'node_modules', '.bin', 'node');
const wanted = require('../package.json').devDependencies.node.split('.')[0];
const r = spawnSync(projectNode, ['--version'], { encoding: 'utf8' });
if (r.status !== 0 || !r.stdout.startsWith(`v${wanted}.`)) {
  console.error(
    `node_modules/.bin/node should be Node ${wanted} (the devDependency "node"); got ${r.stdout || r.error}.\n` +
      'Remove node_modules and run this command again.',
  );
  process.exit(1);
}

if (process.argv.includes('--test-tools')) require('./system-packages.cjs').ensureTestTools();
