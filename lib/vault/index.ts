export { createTenant, type CreatedTenant } from './tenants';
export { unlock } from './unlock';
export { addMember } from './members';
export { changePassword, recoverAccess } from './passwords';
export { rotateTenantKey } from './rotation';
export {
  currentEpochPublicKey,
  unlockEpoch,
  epochMonth,
  type EpochPublicKey,
  type UnlockedEpoch,
} from './epochs';
export { lock, VaultError, type UnlockedSession } from './session';
export { bind } from '../crypto/bindings';
