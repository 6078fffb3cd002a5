import type { ColumnType, Generated } from 'kysely';

/** Typed schema of every table; each migration that adds a table adds its interface here. */
export interface Database {
  smoke_checks: SmokeChecksTable;
  tenants: TenantsTable;
  users: UsersTable;
  tenant_key_grants: TenantKeyGrantsTable;
  epochs: EpochsTable;
  ledger_logs: LedgerLogsTable;
  ledger_entries: LedgerEntriesTable;
  ledger_tiles: LedgerTilesTable;
  ledger_checkpoints: LedgerCheckpointsTable;
  audit_keys: AuditKeysTable;
  audit_events: AuditEventsTable;
  audit_heads: AuditHeadsTable;
  audit_anchors: AuditAnchorsTable;
  ingest_addresses: IngestAddressesTable;
  messages: MessagesTable;
  message_receipts: MessageReceiptsTable;
  search_index_queue: SearchIndexQueueTable;
  search_extract_queue: SearchIndexQueueTable;
  search_segments: SearchSegmentsTable;
  decryption_grants: DecryptionGrantsTable;
  integrity_runs: IntegrityRunsTable;
  exports: ExportsTable;
  export_items: ExportItemsTable;
  invites: InvitesTable;
  recovery_codes: RecoveryCodesTable;
  sessions: SessionsTable;
  auth_throttle: AuthThrottleTable;
  auth_known_sources: AuthKnownSourcesTable;
  ingest_credentials: IngestCredentialsTable;
  journal_addresses: JournalAddressesTable;
  imap_imports: ImapImportsTable;
  imap_import_folders: ImapImportFoldersTable;
  restores: RestoresTable;
  restore_items: RestoreItemsTable;
  passkeys: PasskeysTable;
  passkey_challenges: PasskeyChallengesTable;
  tenant_sso: TenantSsoTable;
  sso_domains: SsoDomainsTable;
  sso_logins: SsoLoginsTable;
  sso_requests: SsoRequestsTable;
  retention_classes: RetentionClassesTable;
  retention_rules: RetentionRulesTable;
  legal_holds: LegalHoldsTable;
  legal_hold_messages: LegalHoldMessagesTable;
  shreds: ShredsTable;
  key_rotations: KeyRotationsTable;
  imports: ImportsTable;
  tenant_mail_totals: TenantMailTotalsTable;
  anchor_evidence: AnchorEvidenceTable;
}

/** An anchor checkpoint's RFC 4998 evidence record from one TSA (migration 0039). */
export interface AnchorEvidenceTable {
  log_id: string;
  size: number;
  /** The TSA that made the first timestamp. */
  tsa_url: string;
  /** EvidenceRecord DER, renewed in place. */
  record: Buffer;
  /** Digest algorithm (OID) of the current chain. */
  chain_alg: string;
  first_gen_time: Date;
  last_gen_time: Date;
  /** End of validity of the last timestamp's TSA certificate: renew before. */
  expires_at: Date;
  last_signer_sha256: Buffer;
  renewals: Generated<number>;
  renewal_error: string | null;
  renewal_failed_at: Date | null;
  updated_at: Generated<Date>;
}

export interface TenantMailTotalsTable {
  tenant_id: string;
  /** Mails received before this are counted in `mails` and `bytes`. */
  counted_before: Date;
  /** bigint: read and written as text, so sums stay exact. */
  mails: ColumnType<string, string, string>;
  bytes: ColumnType<string, string, string>;
}

export interface ImportProblem {
  /** 0-based position in the file; -1 for the file as a whole. */
  entry: number;
  name?: string;
  /** A message key of the portal's dictionaries (older rows: an English sentence). */
  reason: string;
  params?: Record<string, string | number>;
}

export interface ImportsTable {
  id: string;
  tenant_id: string;
  created_by: string;
  format: 'mbox' | 'zip';
  object_key: string;
  size: number;
  status: Generated<'running' | 'done' | 'failed'>;
  bytes_done: Generated<number>;
  entries_done: Generated<number>;
  archived: Generated<number>;
  duplicates: Generated<number>;
  malformed: Generated<number>;
  problems: ColumnType<ImportProblem[], string | undefined, string>;
  error: string | null;
  created_at: Created;
  finished_at: Date | null;
}

export interface KeyRotationsTable {
  id: string;
  tenant_id: string;
  from_version: number;
  to_version: number;
  next_public_key: Buffer;
  requested_by: string;
  trigger: 'manual' | 'schedule' | 'member-removal';
  remove_user_ids: string[];
  status: Generated<'running' | 'done' | 'failed'>;
  epochs_total: Generated<number>;
  epochs_done: Generated<number>;
  error: string | null;
  created_at: Created;
  finished_at: Date | null;
}

export type RetentionUnit = 'years' | 'months' | 'days' | 'minutes';

export interface RetentionClassesTable {
  tenant_id: string;
  name: string;
  keep_amount: number;
  keep_unit: RetentionUnit;
  created_at: Created;
}

export interface RetentionRulesTable {
  id: string;
  tenant_id: string;
  pattern: string;
  class_name: string;
  created_at: Created;
}

export interface LegalHoldsTable {
  id: string;
  tenant_id: string;
  reason: string;
  query: string;
  created_by: string;
  created_at: Created;
  matched: Generated<number>;
  released_at: Date | null;
  released_by: string | null;
  release_reason: string | null;
}

export interface LegalHoldMessagesTable {
  hold_id: string;
  message_id: string;
  tenant_id: string;
}

export interface ShredsTable {
  id: string;
  tenant_id: string;
  epoch_id: string;
  kind: 'epoch' | 'mails';
  message_count: number;
  tombstone: Buffer;
  ledger_index: number | null;
  objects_deleted_at: Date | null;
  created_at: Created;
}

export type MessageState = 'staged' | 'stored' | 'ledgered' | 'sealed';

export interface MessagesTable {
  id: string;
  tenant_id: string;
  sha256: Buffer;
  size: number;
  epoch_id: string;
  sealed_dek: Buffer | null;
  staging_key: string;
  object_key: string | null;
  ciphertext_sha256: Buffer;
  ciphertext_size: number;
  enc_metadata: Buffer | null;
  enc_tokens: Buffer | null;
  /** Attachment text the index job read (issue 20), under the mail's DEK; null until then. */
  enc_extracted: Buffer | null;
  state: Generated<MessageState>;
  ledger_index: number | null;
  received_at: Generated<Date>;
  sealed_at: Date | null;
  /** Deleted at retention end (its epoch shredded, or the mail alone beside held mail). */
  deleted_at: Generated<Date | null>;
  /** The epoch the body's encryption is bound to, when not `epoch_id` (see migration 0015). */
  body_epoch_id: Generated<string | null>;
  /** A journal report's: the SHA-256 of the original it carries (migration 0038). */
  original_sha256: Generated<Buffer | null>;
  /** A later report of an original already archived: the first report's row (decision 0029). */
  logical_id: Generated<string | null>;
}

export interface MessageReceiptsTable {
  id: string;
  tenant_id: string;
  message_id: string;
  received_at: Generated<Date>;
  duplicate: boolean;
  ingest_address: string;
  sealed_envelope: Buffer | null;
}

export interface SearchIndexQueueTable {
  message_id: string;
  tenant_id: string;
  queued_at: Generated<Date>;
}

export interface SearchSegmentsTable {
  id: string;
  tenant_id: string;
  epoch_id: string;
  doc_count: number;
  /** 3: header and blocks (decision 0021); 2: `enc_segment`, deleted by the first merge. */
  format: Generated<number>;
  /** Format 2 only; the column goes one release after 0027. */
  enc_segment: Buffer | null;
  enc_header: Buffer | null;
  enc_blocks: Buffer | null;
  created_at: Generated<Date>;
}

export interface DecryptionGrantsTable {
  id: string;
  tenant_id: string;
  purpose: 'search-index' | 'export' | 'key-rotation' | 'import' | 'restore';
  created_by: string;
  sealed_keys: Buffer;
  created_at: Generated<Date>;
  expires_at: Date;
}

export interface IntegrityFailure {
  messageId: string;
  kind: 'missing' | 'hash-mismatch' | 'size-mismatch' | 'unreadable';
  detail?: string;
}

export interface IntegrityRunsTable {
  id: string;
  tenant_id: string;
  trigger: 'schedule' | 'manual';
  started_at: Generated<Date>;
  finished_at: Date | null;
  objects_checked: Generated<number>;
  bytes_checked: Generated<string>;
  failures: Generated<IntegrityFailure[]>;
  ledger_problems: Generated<{ at: number; what: string }[]>;
  audit_problems: Generated<{ seq: number; what: string }[]>;
}

export interface ExportPart {
  n: number;
  key: string;
  size: number;
  sha256: string;
  mails: number;
}

export interface ExportsTable {
  id: string;
  tenant_id: string;
  created_by: string;
  format: 'eml' | 'mbox';
  include_pdfs: boolean;
  status: Generated<'running' | 'done' | 'failed' | 'expired'>;
  total: number | null;
  /** Mails written so far, updated while a part is written (the portal's progress bar). */
  mails_done: Generated<number>;
  parts: Generated<ExportPart[]>;
  error: string | null;
  created_at: Generated<Date>;
  finished_at: Date | null;
  expires_at: Date | null;
}

export interface ExportItemsTable {
  export_id: string;
  tenant_id: string;
  position: number;
  message_id: string;
}

export interface AuditKeysTable {
  tenant_id: string;
  public_key: Buffer;
  sealed_private_key: Buffer;
  tenant_key_version: number;
}

export interface AuditEventsTable {
  tenant_id: string;
  seq: number;
  id: string;
  at: Date;
  action: string;
  actor_type: 'user' | 'operator' | 'system';
  actor_id: string | null;
  actor_label: string | null;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: ColumnType<Record<string, unknown>, string, never>;
  sealed_details: Buffer | null;
  prev_hash: Buffer;
  hash: Buffer;
}

export interface AuditHeadsTable {
  tenant_id: string;
  seq: number;
  hash: Buffer;
}

export interface AuditAnchorsTable {
  tenant_id: string;
  seq: number;
  hash: Buffer;
  ledger_index: number;
  anchored_at: Generated<Date>;
}

export interface IngestAddressesTable {
  id: string;
  tenant_id: string;
  address: string;
  created_at: Generated<Date>;
  removed_at: Date | null;
}

export interface LedgerCheckpointsTable {
  log_id: string;
  tenant_id: string | null;
  size: number;
  root: Buffer;
  note: string;
  anchor_index: number | null;
  tsa_response: Buffer | null;
  tsa_gen_time: Date | null;
  created_at: Created;
}

export interface LedgerLogsTable {
  id: string;
  tenant_id: string | null;
  origin: string;
  size: number;
  integrated_size: number;
  root: Buffer;
  signing_public_key: Buffer;
  signing_wrapped_private_key: Buffer;
  created_at: Created;
}

export interface LedgerEntriesTable {
  log_id: string;
  tenant_id: string | null;
  idx: number;
  entry_hash: Buffer;
  kind: 'mail' | 'audit-head' | 'tombstone' | 'checkpoint';
  created_at: Created;
}

export interface LedgerTilesTable {
  log_id: string;
  tenant_id: string | null;
  level: number;
  tile_index: number;
  hashes: Buffer;
}

type Created = ColumnType<Date, never, never>;

export interface TenantsTable {
  id: string;
  name: string;
  public_key: Buffer;
  key_version: number;
  recovery_public_key: Buffer;
  session_idle_minutes: Generated<number>;
  session_absolute_hours: Generated<number>;
  /** Text recognition (Tesseract) for images and scanned PDFs; off by default. */
  ocr_enabled: Generated<boolean>;
  /** DKIM domains SMTP journal mail must be signed by; empty: no check (issue 22 §1). */
  journal_dkim_domains: Generated<string[]>;
  created_at: Created;
  /** Rotate the tenant key every this many months (0: only by hand). */
  key_rotation_months: Generated<number>;
  key_rotated_at: Date | null;
}

export interface UsersTable {
  id: string;
  tenant_id: string;
  email: string;
  role: Role;
  public_key: Buffer;
  wrapped_private_key: Buffer;
  recovery_sealed_private_key: Buffer;
  password_salt: Buffer;
  argon2_memory_kib: number;
  argon2_iterations: number;
  argon2_parallelism: number;
  password_verifier: Buffer;
  disabled_at: Date | null;
  totp_sealed_secret: Buffer | null;
  totp_last_step: number | null;
  totp_enrolled_at: Date | null;
  created_at: Created;
}

/** Least privilege: owner ⊃ admin ⊃ member; the auditor reads the audit log only (issue 7). */
export type Role = 'owner' | 'admin' | 'auditor' | 'member';

export interface InvitesTable {
  id: string;
  tenant_id: string;
  tenant_name: string | null;
  email: string;
  role: Role;
  token_hash: Buffer;
  invited_by: string;
  created_at: Created;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
  sealed_tenant_key: Buffer | null;
  tenant_key_version: number | null;
  /** A reset link: the existing user whose password, second factor and keys it replaces. */
  reset_user_id: ColumnType<string | null, string | null | undefined, string | null>;
  remove_passkeys: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface RecoveryCodesTable {
  tenant_id: string;
  user_id: string;
  code_hash: Buffer;
  created_at: Created;
  used_at: Date | null;
}

export interface SessionsTable {
  id_hash: Buffer;
  tenant_id: string;
  user_id: string;
  sealed_keys: Buffer;
  ip: string | null;
  user_agent: string | null;
  created_at: Created;
  last_seen_at: ColumnType<Date, never, Date>;
  second_factor_at: Date | null;
  reauth_at: Date | null;
  ended_at: Date | null;
  end_reason: string | null;
  webauthn_challenge: string | null;
  webauthn_challenge_expires_at: Date | null;
  /** Opened with the recovery key: second factor, then a new password, before anything else. */
  must_set_password: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface PasskeysTable {
  id: string;
  tenant_id: string;
  user_id: string;
  public_key: Buffer;
  counter: number;
  transports: string[];
  name: string;
  created_at: Created;
  last_used_at: Date | null;
  /** With the PRF extension: HKDF salt and the user's private key wrapped under the derived key. */
  prf_salt: ColumnType<Buffer | null, Buffer | null | undefined, Buffer | null>;
  prf_wrapped_private_key: ColumnType<Buffer | null, Buffer | null | undefined, Buffer | null>;
}

export interface TenantSsoTable {
  tenant_id: string;
  issuer: string;
  client_id: string;
  /** AES-256-GCM under VAULT_KEY_WRAP_KEY (purpose sso-client-secret). */
  client_secret_wrapped: Buffer;
  allowed_domains: string[];
  group_claim: ColumnType<string, string | undefined, string>;
  /** [{ group, role }], first match wins. */
  role_map: ColumnType<{ group: string; role: Role }[], string, string>;
  required: ColumnType<boolean, boolean | undefined, boolean>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface SsoDomainsTable {
  domain: string;
  tenant_id: string;
}

export interface SsoLoginsTable {
  state_hash: Buffer;
  tenant_id: string;
  nonce: string;
  code_verifier: string;
  expires_at: Date;
  ticket_hash: Buffer | null;
  email: string | null;
  user_id: string | null;
  role: Role | null;
}

export interface SsoRequestsTable {
  id: string;
  tenant_id: string;
  email: string;
  role: Role;
  public_key: Buffer;
  wrapped_private_key: Buffer;
  recovery_sealed_private_key: Buffer;
  password_salt: Buffer;
  argon2_memory_kib: number;
  argon2_iterations: number;
  argon2_parallelism: number;
  password_verifier: Buffer;
  requested_at: ColumnType<Date, Date | undefined, never>;
}

export interface PasskeyChallengesTable {
  challenge_hash: Buffer;
  expires_at: Date;
}

/** An IMAP account being imported (issue 22 §3); its password is never stored. */
export interface ImapImportsTable {
  id: string;
  tenant_id: string;
  created_by: string | null;
  host: string;
  port: number;
  security: 'tls' | 'starttls';
  username: string;
  continuous_minutes: number | null;
  status: Generated<'running' | 'watching' | 'done' | 'failed'>;
  error: string | null;
  last_sync_at: Date | null;
  created_at: Generated<Date>;
  finished_at: Date | null;
}

/** A restore of archived mails into an IMAP mailbox (issue 22 §4). */
export interface RestoresTable {
  id: string;
  tenant_id: string;
  created_by: string;
  host: string;
  port: number;
  username: string;
  folder: string;
  total: number | null;
  done: Generated<number>;
  status: Generated<'running' | 'done' | 'failed'>;
  error: string | null;
  created_at: Generated<Date>;
  finished_at: Date | null;
}

/** One mail of a restore, numbered; `uid` once the server took it. */
export interface RestoreItemsTable {
  restore_id: string;
  tenant_id: string;
  position: number;
  message_id: string;
  uid: string | null;
}

/** One folder of an IMAP import: its checkpoint and counts. */
export interface ImapImportFoldersTable {
  import_id: string;
  tenant_id: string;
  path: string;
  uid_validity: string | null;
  /** bigint: pg returns it as a string. */
  last_uid: Generated<string>;
  archived: Generated<number>;
  duplicates: Generated<number>;
  skipped: Generated<number>;
  error: string | null;
}

/** An SMTP journaling address (issue 22 §1): its random local part is the credential. */
export interface JournalAddressesTable {
  id: string;
  tenant_id: string;
  token_sha256: Buffer;
  /** The local part's first characters: enough to tell addresses apart, far too few to deliver. */
  hint: string;
  label: string;
  created_by: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}

export interface IngestCredentialsTable {
  id: string;
  /** NULL: an operator's relay, which may deliver to every tenant. */
  tenant_id: string | null;
  kind: 'password' | 'certificate';
  label: string;
  /** A password's SHA-256, or a certificate's (the LMTP server pins it). */
  secret_sha256: Buffer | null;
  created_by: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
  certificate_pem: string | null;
  expires_at: Date | null;
}

export interface AuthKnownSourcesTable {
  key_hash: Buffer;
  last_success_at: Date;
}

export interface AuthThrottleTable {
  key_hash: Buffer;
  failures: number;
  window_start: Date;
  last_failure_at: Date;
  locked_until: Date | null;
}

export interface TenantKeyGrantsTable {
  tenant_id: string;
  user_id: string;
  key_version: number;
  sealed_private_key: Buffer;
  created_at: Created;
}

export interface EpochsTable {
  id: string;
  tenant_id: string;
  retention_class: string;
  month: string;
  public_key: Buffer;
  sealed_private_key: Buffer | null;
  tenant_key_version: number;
  sealed_index_key: Buffer | null;
  created_at: Created;
  shredded_at: Date | null;
  /** The private key is additionally wrapped under a key in the shred-key vault. */
  shred_layer: Generated<boolean>;
  /** During a key rotation: the private key sealed to the next tenant key (migration 0016). */
  next_sealed_private_key: Generated<Buffer | null>;
  next_key_version: Generated<number | null>;
}

/** One row per platform self-check run (dev start-up and the integration smoke test). */
export interface SmokeChecksTable {
  id: string;
  workflow_id: string;
  object_key: string;
  object_sha256: string;
  object_size: number;
  created_at: ColumnType<Date, never, never>;
  seq: Generated<number>;
}
