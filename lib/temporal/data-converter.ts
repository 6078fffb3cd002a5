import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec, parseCodecKeys } from './codec';

/** Loaded by path because it also runs inside the workflow sandbox. */
export const failureConverterPath = require.resolve('./failure-converter');

/** The one data converter of every Temporal client and worker: encrypted payloads and failures. */
export function dataConverter(codecKeys: string): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(parseCodecKeys(codecKeys))], failureConverterPath };
}
