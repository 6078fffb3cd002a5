import { parentPort } from 'node:worker_threads';
import { documentText, UnreadableDocument, type ExtractKind } from './document-text';

/**
 * An extraction thread (extractor.ts): reads the documents it is sent, one at a time, and answers
 * each with its text or why it could not be read. Its heap is limited and it is ended when a
 * document takes too long; nothing it reads outlives the answer.
 */

interface Request {
  data: Uint8Array;
  kind: ExtractKind;
  maxChars: number;
}

parentPort!.on('message', ({ data, kind, maxChars }: Request) => {
  documentText(data, kind, maxChars).then(
    (text) => parentPort!.postMessage({ text }),
    (err: unknown) =>
      parentPort!.postMessage(
        err instanceof UnreadableDocument
          ? { unreadable: err.reason, detail: err.message.slice(0, 200) }
          : { unreadable: 'damaged', detail: String(err).slice(0, 200) },
      ),
  );
});
