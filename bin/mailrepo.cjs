#!/usr/bin/env node
// The `mailrepo` command (package.json "bin"): TypeScript sources run through tsx's loader.
require('tsx/cjs');
require('../workers/cli.ts');
