import { benchCrypto } from './crypto';
import { benchPayloadCodec } from './payload-codec';
import { benchTsa } from './tsa';

/** `npm run bench`: prints figures; never used as assertions in tests. */
async function main(): Promise<void> {
  console.log(`node ${process.version}, ${new Date().toISOString()}`);
  await benchPayloadCodec();
  await benchTsa();
  await benchCrypto();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
