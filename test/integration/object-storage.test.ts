import { readFileSync } from 'node:fs';
import path from 'node:path';
import { stackConfig } from '../helpers/stack-env';

/** The dev/test MinIO really is erasure-coded over four drives, not a single-drive store. */
describe('MinIO layout', () => {
  it('formats four drives as one erasure set', () => {
    const cfg = stackConfig();
    const formats = [1, 2, 3, 4].map(
      (i) =>
        JSON.parse(
          readFileSync(
            path.join(cfg.DATA_DIR, 'minio', `drive${i}`, '.minio.sys', 'format.json'),
            'utf8',
          ),
        ) as {
          format: string;
          xl: { this: string; sets: string[][] };
        },
    );
    for (const f of formats) {
      expect(f.format).toBe('xl');
      expect(f.xl.sets).toHaveLength(1);
      expect(f.xl.sets[0]).toHaveLength(4);
    }
    // Each drive knows its own id, and together they are the set.
    expect(new Set(formats.map((f) => f.xl.this))).toEqual(new Set(formats[0]!.xl.sets[0]));
  });
});
