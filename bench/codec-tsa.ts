import { benchPayloadCodec } from './payload-codec';
import { benchTsa } from './tsa';

/** The payload codec and the dev TSA, in one process for `npm run bench`. */
async function main(): Promise<void> {
  await benchPayloadCodec();
  await benchTsa();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
