import { migrations } from '../../lib/db/migrations';

describe('migrations', () => {
  it('are forward-only, ordered and named NNNN_name', () => {
    const names = Object.keys(migrations);
    expect(names.length).toBeGreaterThan(0);
    expect([...names].sort()).toEqual(names);
    for (const [name, m] of Object.entries(migrations)) {
      expect(name).toMatch(/^\d{4}_[a-z0-9_]+$/);
      expect(typeof m.up).toBe('function');
      expect(m.down).toBeUndefined();
    }
  });
});
