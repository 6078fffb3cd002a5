import { packPositions, unpackPositions } from '../../lib/search/segment-reader';

/** A remembered prefix union is kept as positions or as a bitmap, whichever is smaller. */
describe('packPositions', () => {
  it.each([
    ['empty', [], 1000],
    ['sparse', [0, 7, 8, 999], 1000],
    ['dense', Array.from({ length: 600 }, (_, i) => i * 2 + (i % 3 === 0 ? 1 : 0)), 1203],
    ['every mail', Array.from({ length: 131_072 }, (_, i) => i), 131_072],
    ['last bits', [7, 15, 31, 131_071], 131_072],
  ])('%s: comes back the same', (_, list, docs) => {
    const positions = Int32Array.from(list);
    const packed = packPositions(positions, docs);
    expect(packed.byteLength).toBeLessThanOrEqual(Math.max(positions.byteLength, 0));
    expect([...unpackPositions(packed)]).toEqual(list);
  });

  it('keeps a dense list as a bitmap of one bit per mail', () => {
    const dense = Int32Array.from({ length: 5000 }, (_, i) => i * 3);
    const packed = packPositions(dense, 15_000);
    expect(packed).toBeInstanceOf(Uint8Array);
    expect(packed.byteLength).toBe(Math.ceil(15_000 / 8));
  });
});
