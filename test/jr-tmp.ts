import { readFileSync } from 'node:fs';
import { MetadataExtractor } from '../lib/ingest/mime-metadata';
(async () => {
  const x = new MetadataExtractor();
  x.end(readFileSync('/tmp/report.eml'));
  const r = await x.result;
  console.log(JSON.stringify(r.metadata), r.tokens.slice(0, 50));
})();
