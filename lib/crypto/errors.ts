/**
 * Every crypto failure surfaces as a CryptoError with a fixed, generic message: never key bytes,
 * plaintext or the underlying library's error (which may quote inputs).
 */
export type CryptoFailure =
  | 'decrypt-failed'
  | 'unsupported-format'
  | 'malformed'
  | 'truncated'
  | 'wrong-password'
  | 'bad-recovery-key'
  | 'key-mismatch'
  | 'invalid-key';

const MESSAGES: Record<CryptoFailure, string> = {
  'decrypt-failed': 'decryption failed: wrong key, wrong context or altered data',
  'unsupported-format': 'unsupported format version or suite',
  malformed: 'malformed ciphertext',
  truncated: 'ciphertext is truncated',
  'wrong-password': 'wrong password',
  'bad-recovery-key': 'recovery key is not valid (check for typos)',
  'key-mismatch': 'stored public key does not match its private key',
  'invalid-key': 'invalid key',
};

export class CryptoError extends Error {
  override name = 'CryptoError';
  constructor(readonly failure: CryptoFailure) {
    super(MESSAGES[failure]);
  }
}
