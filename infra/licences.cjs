#!/usr/bin/env node
// The licence check of `npm test` (issue 17 §8): every package the product runs with (production
// dependencies, transitively) must carry a licence from the allow-list — permissive ones only, so
// no copyleft code ships in a product that is not itself open source. A package whose licence
// field the checker cannot read is listed with the reviewed reason, or the check fails.
'use strict';
const path = require('node:path');
const checker = require('license-checker-rseidelsohn');

const ALLOWED = new Set([
  'MIT',
  'MIT-0',
  'MIT*', // png-js: MIT text in a LICENSE file the checker only guesses from
  'ISC',
  '0BSD',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'Apache-2.0',
  'BlueOak-1.0.0',
  'Unlicense',
  'Public Domain',
  'CC0-1.0',
  'CC-BY-4.0', // data only (caniuse-lite's browser tables), attribution
  'Python-2.0',
]);

/** Reviewed by hand: package name → why its licence is fine. */
const REVIEWED = {
  mailrepo: 'this product',
  'dejavu-fonts-ttf': 'Bitstream Vera / Arev font licences: permissive, embedding allowed',
};

/** An SPDX expression is allowed when every AND part and at least one OR alternative is. */
function allowed(expr) {
  const e = String(expr)
    .trim()
    .replace(/^\((.*)\)$/, '$1');
  if (/ OR /.test(e)) return e.split(/ OR /).some(allowed);
  if (/ AND /.test(e)) return e.split(/ AND /).every(allowed);
  return ALLOWED.has(e);
}

checker.init(
  { start: path.resolve(__dirname, '..'), production: true, json: true },
  (err, packages) => {
    if (err) {
      console.error(`licence check failed to run: ${err.message}`);
      process.exit(1);
    }
    const refused = [];
    for (const [id, info] of Object.entries(packages)) {
      const name = id.slice(0, id.lastIndexOf('@'));
      if (REVIEWED[name]) continue;
      const licences = [].concat(info.licenses ?? 'UNKNOWN');
      if (!licences.every(allowed)) refused.push(`${id}: ${licences.join(', ')}`);
    }
    const n = Object.keys(packages).length;
    if (refused.length) {
      console.error(`licence check: ${refused.length} of ${n} packages are not on the allow-list:`);
      for (const r of refused) console.error(`  ${r}`);
      process.exit(1);
    }
    console.log(`licence check: ${n} production packages, all on the allow-list`);
  },
);
