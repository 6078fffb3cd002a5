import { SUPPORTED_NODE_MAJOR, unsupportedNode } from '../../lib/process/node-runtime';
import { loadConfig } from '../../lib/config';

describe('the Node.js runtime', () => {
  it('is Node 24 for this test run (npm test runs the project’s own Node)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBe(SUPPORTED_NODE_MAJOR);
    expect(() => loadConfig({ NODE_ENV: 'test' })).not.toThrow();
  });

  it.each(['20.19.0', '20.20.2', '22.12.0', '26.1.0'])('refuses Node %s with a way out', (v) => {
    expect(unsupportedNode(v)).toMatch(new RegExp(`runs on ${v.replace(/\./g, '\\.')}.*npm run`));
    expect(unsupportedNode(v)).toMatch(/Node\.js 24 LTS/);
  });

  it.each(['24.0.0', '24.11.1', '24.21.0'])('accepts Node %s', (v) => {
    expect(unsupportedNode(v)).toBeUndefined();
  });
});
