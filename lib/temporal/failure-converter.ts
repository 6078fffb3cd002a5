import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Moves failure messages and stack traces into an encoded payload, so the codec encrypts them
 * too (an error message may quote data). Loaded inside the workflow sandbox through
 * `failureConverterPath`, so it may import nothing but @temporalio/common.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
