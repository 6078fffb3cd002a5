/**
 * A decryption grant as a workflow carries it (lib/vault/grants.ts issues them): the grant's id
 * and the key that opens it. The key travels only in encrypted Temporal payloads.
 */
export interface GrantRef {
  tenantId: string;
  grantId: string;
  grantKey: string;
}
