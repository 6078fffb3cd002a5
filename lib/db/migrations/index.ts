import type { Migration } from 'kysely';
import * as m0001 from './0001_platform';
import * as m0002 from './0002_key_vault';
import * as m0003 from './0003_ledger';
import * as m0004 from './0004_ledger_checkpoints';
import * as m0005 from './0005_audit';
import * as m0006 from './0006_ingest_addresses';
import * as m0007 from './0007_messages';
import * as m0008 from './0008_portal_accounts';
import * as m0009 from './0009_passkeys';
import * as m0010 from './0010_member_invites';
import * as m0011 from './0011_search_segments';
import * as m0012 from './0012_decryption_grants';
import * as m0013 from './0013_integrity_runs';
import * as m0014 from './0014_exports';
import * as m0015 from './0015_retention';
import * as m0016 from './0016_key_rotations';
import * as m0017 from './0017_imports';
import * as m0018 from './0018_deleted_messages_index';
import * as m0019 from './0019_retention_rule_pattern';
import * as m0020 from './0020_session_sweep';
import * as m0021 from './0021_auth_known_sources';
import * as m0022 from './0022_ingest_credentials';
import * as m0023 from './0023_production_roles';
import * as m0024 from './0024_ingest_certificates';
import * as m0025 from './0025_export_progress';
import * as m0026 from './0026_archive_batches';
import * as m0027 from './0027_search_blocks';
import * as m0028 from './0028_mail_totals';
import * as m0029 from './0029_attachment_text';
import * as m0030 from './0030_tenant_ocr';
import * as m0031 from './0031_account_recovery';
import * as m0032 from './0032_passkey_unlock';
import * as m0033 from './0033_single_sign_on';
import * as m0034 from './0034_timed_out_sessions';
import * as m0035 from './0035_journal_addresses';
import * as m0036 from './0036_imap_imports';
import * as m0037 from './0037_restores';
import * as m0038 from './0038_journal_groups';
import * as m0039 from './0039_anchor_evidence';
import * as m0040 from './0040_audit_filters';
import * as m0041 from './0041_expiry_facts';

/**
 * Forward-only: migrations are listed here in order and never have a `down`. A mistake is fixed by
 * a new migration, so a deployed database only ever moves forward. Names must never change.
 */
export const migrations: Record<string, Migration> = {
  '0001_platform': m0001,
  '0002_key_vault': m0002,
  '0003_ledger': m0003,
  '0004_ledger_checkpoints': m0004,
  '0005_audit': m0005,
  '0006_ingest_addresses': m0006,
  '0007_messages': m0007,
  '0008_portal_accounts': m0008,
  '0009_passkeys': m0009,
  '0010_member_invites': m0010,
  '0011_search_segments': m0011,
  '0012_decryption_grants': m0012,
  '0013_integrity_runs': m0013,
  '0014_exports': m0014,
  '0015_retention': m0015,
  '0016_key_rotations': m0016,
  '0017_imports': m0017,
  '0018_deleted_messages_index': m0018,
  '0019_retention_rule_pattern': m0019,
  '0020_session_sweep': m0020,
  '0021_auth_known_sources': m0021,
  '0022_ingest_credentials': m0022,
  '0023_production_roles': m0023,
  '0024_ingest_certificates': m0024,
  '0025_export_progress': m0025,
  '0026_archive_batches': m0026,
  '0027_search_blocks': m0027,
  '0028_mail_totals': m0028,
  '0029_attachment_text': m0029,
  '0030_tenant_ocr': m0030,
  '0031_account_recovery': m0031,
  '0032_passkey_unlock': m0032,
  '0033_single_sign_on': m0033,
  '0034_timed_out_sessions': m0034,
  '0035_journal_addresses': m0035,
  '0036_imap_imports': m0036,
  '0037_restores': m0037,
  '0038_journal_groups': m0038,
  '0039_anchor_evidence': m0039,
  '0040_audit_filters': m0040,
  '0041_expiry_facts': m0041,
};
