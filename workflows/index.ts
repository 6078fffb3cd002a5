export { platformSmoke } from './platform-smoke';
export { ledgerCheckpoint } from './ledger-checkpoint';
export { archiveMail } from './archive-mail';
export { maintainSearchIndex } from './maintain-search-index';
export { integrityCheck } from './integrity-check';
export { exportMailbox } from './export-mailbox';
export { retentionRun, retentionSweep } from './retention-sweep';
export { rotateKeys } from './rotate-keys';
export { importMail } from './import-mail';
