import { limitFor } from '../../web/body-limit';

const limits = { forms: 64 * 1024, uploads: [{ path: '/imports', limit: 20 * 1024 ** 3 }] };

test('uploads keep their limit also when React Router posts to the route as <path>.data', () => {
  expect(limitFor('/imports', limits)).toBe(20 * 1024 ** 3);
  expect(limitFor('/imports.data', limits)).toBe(20 * 1024 ** 3);
  expect(limitFor('/imports/x', limits)).toBe(64 * 1024);
  expect(limitFor('/login', limits)).toBe(64 * 1024);
  expect(limitFor('/login.data', limits)).toBe(64 * 1024);
});
