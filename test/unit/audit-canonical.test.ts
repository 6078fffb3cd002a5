import { createHash } from 'node:crypto';
import { canonicalEvent, canonicalJson, chainHash, GENESIS } from '../../lib/audit/canonical';

describe('canonical audit encoding', () => {
  it('sorts keys, drops whitespace, escapes as JSON, keeps UTF-8', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x"y\n'], c: { z: 'ä—', y: -3 } })).toBe(
      '{"a":[true,null,"x\\"y\\n"],"b":1,"c":{"y":-3,"z":"ä—"}}',
    );
  });

  it('refuses what would not hash back identically from the database', () => {
    expect(() => canonicalJson({ n: 1.5 })).toThrow(/safe integers/);
    expect(() => canonicalJson({ n: 2 ** 60 })).toThrow(/safe integers/);
    expect(() => canonicalJson({ s: 'a\u0000b' })).toThrow(/NUL/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
  });

  // The example of docs/audit.md: change it only together with the document.
  it('matches the documented example and its chain hash', () => {
    const event = {
      tenantId: '00000000-0000-4000-8000-000000000001',
      seq: 1,
      id: '00000000-0000-4000-8000-0000000000aa',
      at: new Date('2026-11-27T08:00:00.000Z'),
      action: 'setting.changed',
      actor: {
        type: 'user',
        id: '00000000-0000-4000-8000-0000000000bb',
        label: 'admin@kunde.example',
      },
      target: null,
      ip: '192.0.2.10',
      details: { key: 'retention.default', old: '10y', new: '6y' },
      sealedDetails: null,
    };
    const canonical = canonicalEvent(event);
    expect(canonical).toBe(
      '{"action":"setting.changed","actor":{"id":"00000000-0000-4000-8000-0000000000bb","label":"admin@kunde.example","type":"user"},"at":"2026-11-27T08:00:00.000Z","details":{"key":"retention.default","new":"6y","old":"10y"},"id":"00000000-0000-4000-8000-0000000000aa","ip":"192.0.2.10","sealedDetails":null,"seq":1,"target":null,"tenant":"00000000-0000-4000-8000-000000000001","v":1}',
    );
    const expected = createHash('sha256').update(GENESIS).update(canonical).digest('hex');
    expect(chainHash(GENESIS, event).toString('hex')).toBe(expected);
    expect(expected).toBe(DOCUMENTED_HASH);
  });
});

const DOCUMENTED_HASH = '0f95efbc6cd857387cf40a90551b8cd5744e5c28924c8d23949eb99656478c27';
