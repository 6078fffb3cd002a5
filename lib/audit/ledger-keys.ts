import type { KeyCreatedHook } from '../ledger/store';
import { recordAudit } from './record';

/** A tenant ledger's signing key was made: `key.created` in the tenant's audit chain. */
export const auditLedgerKeyCreated: KeyCreatedHook = async (tx, key) => {
  await recordAudit(tx, key.tenantId, {
    action: 'key.created',
    actor: { type: 'system', label: 'ledger' },
    target: { type: 'ledger-log', id: key.logId },
    details: {
      purpose: 'ledger-signing',
      origin: key.origin,
      keyHash: key.keyHash.toString('hex'),
    },
  });
};
