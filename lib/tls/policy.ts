import type { SecureContextOptions, TlsOptions } from 'node:tls';

/**
 * The TLS every server of ours speaks (TOMs §5): TLS 1.2 and 1.3 only; for TLS 1.2 only forward
 * secret AEAD suites (Mozilla's "intermediate" list). TLS 1.3's suites are all AEAD and stay as
 * Node offers them. Used by the LMTP listener and the portal's own HTTPS server.
 */
export const TLS_CIPHERS_12 = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export const SERVER_TLS: Pick<
  TlsOptions & SecureContextOptions,
  'minVersion' | 'maxVersion' | 'ciphers' | 'honorCipherOrder'
> = {
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: TLS_CIPHERS_12,
  honorCipherOrder: true,
};
