export { platformSmoke } from './platform-smoke';
export { ledgerCheckpoint } from './ledger-checkpoint';
