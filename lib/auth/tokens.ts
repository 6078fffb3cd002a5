import { createHash, randomBytes } from 'node:crypto';

/** Bearer secrets (invite tokens, session ids, recovery codes) are stored only as SHA-256. */
export const newToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');
export const tokenHash = (token: string): Buffer => createHash('sha256').update(token).digest();
