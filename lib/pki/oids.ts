export const OID = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  sha3_512: '2.16.840.1.101.3.4.2.10',
  sha1: '1.3.14.3.2.26',
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  extKeyUsage: '2.5.29.37',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  kpTimeStamping: '1.3.6.1.5.5.7.3.8',
  kpClientAuth: '1.3.6.1.5.5.7.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  /** Private arc used only by the dev TSA; a real TSA names its own policy. */
  devTsaPolicy: '1.3.6.1.4.1.99999.1.1',
} as const;

/** Web Crypto digest names for the hash OIDs we accept in message imprints. */
export const HASH_BY_OID: Record<string, 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512' | 'SHA3-512'> =
  {
    [OID.sha256]: 'SHA-256',
    [OID.sha384]: 'SHA-384',
    [OID.sha512]: 'SHA-512',
    [OID.sha3_512]: 'SHA3-512',
    [OID.sha1]: 'SHA-1',
  };

/** Node's names of the digests a message imprint or an evidence record may use. */
export const NODE_HASH_BY_OID: Record<string, 'sha256' | 'sha384' | 'sha512' | 'sha3-512'> = {
  [OID.sha256]: 'sha256',
  [OID.sha384]: 'sha384',
  [OID.sha512]: 'sha512',
  [OID.sha3_512]: 'sha3-512',
};
