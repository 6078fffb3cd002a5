import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';

/** pkijs needs a WebCrypto engine; Node's own is enough. Import this module before using pkijs. */
pkijs.setEngine(
  'node',
  new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }),
);

export { pkijs };
// Typed as the Web Crypto API pkijs is written against (@types/node's own types run ahead of it).
export const subtle = webcrypto.subtle as unknown as SubtleCrypto;
