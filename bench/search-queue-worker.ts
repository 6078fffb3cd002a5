import { parentPort, workerData } from 'node:worker_threads';
import { createDb } from '../lib/db';
import { queueMails, type CorpusMail } from '../test/helpers/search-corpus';

/**
 * A thread of bench/search.ts that encrypts and queues chunks of the synthetic corpus, so the
 * corpus of a large run is built on every core (ingest encrypts each mail: an HPKE seal and two
 * AES-GCM parts). Answers each chunk's number when it is stored.
 */
interface Chunk {
  n: number;
  tenantId: string;
  epoch: { epochId: string; publicKey: Uint8Array };
  mails: CorpusMail[];
}

const db = createDb((workerData as { url: string }).url, 2);
parentPort!.on('message', (msg: Chunk | null) => {
  if (!msg) {
    void db.destroy().then(() => parentPort!.close());
    return;
  }
  const epoch = { epochId: msg.epoch.epochId, publicKey: Buffer.from(msg.epoch.publicKey) };
  queueMails(db, msg.tenantId, epoch, msg.mails).then(
    () => parentPort!.postMessage(msg.n),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
});
