/**
 * The audit event catalogue (docs/audit.md is its prose form): every security-relevant action and
 * the feature whose code performs it. A feature marked built here must emit each of its events —
 * test/unit/audit-catalogue.test.ts fails for any catalogue event of a built feature that no code
 * path emits. Each issue that builds a feature flips its flag in the same commit.
 */

export const FEATURES = {
  /** Key vault: tenants, members, keys, passwords (lib/vault). */
  vault: true,
  /** Ingest address management (lib/ingest/addresses.ts, `mailrepo ingest-address`). */
  ingestAddresses: true,
  /** The audit log's own export. */
  audit: true,
  /** LMTP ingest and the archiveMail workflow. */
  ingest: true,
  /** Portal accounts: login, second factor, sessions, users, settings. */
  portal: true,
  /** Portal archive: every decryption of mail content. */
  archive: true,
  /** Exports, retention, legal holds. */
  lifecycle: true,
} as const;
export type Feature = keyof typeof FEATURES;

interface EventSpec {
  feature: Feature;
  /** What happened, for docs/audit.md and the portal's audit view. */
  summary: string;
}

export const AUDIT_EVENTS = {
  'tenant.created': { feature: 'vault', summary: 'tenant created with its first administrator' },
  'key.created': {
    feature: 'vault',
    summary: 'a key was created (tenant key, ledger signing key)',
  },
  'key.rotated': { feature: 'vault', summary: 'tenant key rotated; live epoch keys re-sealed' },
  'key.recovered': { feature: 'vault', summary: "a user's access restored with the recovery key" },
  'password.changed': { feature: 'vault', summary: 'a user changed their password' },
  'user.added': { feature: 'vault', summary: 'a user was given access to the tenant key' },
  'user.removed': { feature: 'vault', summary: "a user's access removed (at key rotation)" },

  'search.rebuilt': {
    feature: 'archive',
    summary: "the tenant's search index was dropped and queued to be rebuilt from its mails",
  },
  'ingest_address.added': { feature: 'ingestAddresses', summary: 'ingest address added' },
  'ingest_address.removed': { feature: 'ingestAddresses', summary: 'ingest address removed' },
  'ingest_credential.created': {
    feature: 'ingestAddresses',
    summary: "a credential for the tenant's mail servers created (shown once)",
  },
  'ingest_credential.revoked': {
    feature: 'ingestAddresses',
    summary: "a credential of the tenant's mail servers revoked",
  },
  'journal_address.created': {
    feature: 'ingestAddresses',
    summary: 'an SMTP journal address created (shown once)',
  },
  'journal_address.revoked': {
    feature: 'ingestAddresses',
    summary: 'an SMTP journal address revoked',
  },
  'ingest.delivery_refused': {
    feature: 'ingest',
    summary:
      "an authenticated mail server named an address that is not the tenant's, or journal mail lacked the tenant's DKIM signature",
  },

  'mail.archived': { feature: 'ingest', summary: 'a received mail was stored and ledgered' },

  'audit.exported': { feature: 'audit', summary: 'the audit log was exported for an auditor' },

  'auth.login.succeeded': { feature: 'portal', summary: 'password accepted' },
  'auth.login.failed': { feature: 'portal', summary: 'wrong e-mail or password' },
  'auth.login.attack_suspected': {
    feature: 'portal',
    summary: '100 failed logins for an account within an hour: unknown sources now back off',
  },
  'auth.second_factor.succeeded': { feature: 'portal', summary: 'second factor accepted' },
  'auth.second_factor.failed': { feature: 'portal', summary: 'second factor rejected' },
  'auth.totp.added': { feature: 'portal', summary: 'TOTP authenticator enrolled' },
  'auth.totp.removed': { feature: 'portal', summary: 'TOTP authenticator removed' },
  'auth.passkey.added': { feature: 'portal', summary: 'passkey registered' },
  'auth.passkey.removed': { feature: 'portal', summary: 'passkey removed' },
  'auth.passkey.unlock_enabled': {
    feature: 'portal',
    summary: 'a passkey (PRF) now also unlocks the keys: sign-in without password',
  },
  'auth.recovery_code.used': { feature: 'portal', summary: 'a single-use recovery code was used' },
  'auth.sso.succeeded': {
    feature: 'portal',
    summary: 'the tenant’s OpenID provider proved an identity (keys still locked)',
  },
  'auth.sso.failed': {
    feature: 'portal',
    summary: 'a single sign-on failed (state, token, unverified e-mail, domain, provider)',
  },
  'auth.recovery_key.used': {
    feature: 'portal',
    summary: "an owner's forgotten password: the recovery key opened a session (new password next)",
  },
  'auth.recovery_key.failed': {
    feature: 'portal',
    summary: 'a wrong recovery key (or no owner with that address) at the forgotten-password page',
  },
  'session.created': { feature: 'portal', summary: 'session started after both factors' },
  'session.revoked': { feature: 'portal', summary: 'session ended by the user or an admin' },
  'session.expired': { feature: 'portal', summary: 'session ended by inactivity timeout' },
  'user.invited': { feature: 'portal', summary: 'a user was invited' },
  'user.role_changed': { feature: 'portal', summary: "a user's role changed" },
  'user.access_requested': {
    feature: 'portal',
    summary: 'someone the tenant’s OpenID provider vouches for asked for an account',
  },
  'user.access_rejected': { feature: 'portal', summary: 'an access request was rejected' },
  'user.reset_issued': {
    feature: 'portal',
    summary: 'an owner or admin issued a reset link for a user (their sessions ended)',
  },
  'user.reset_completed': {
    feature: 'portal',
    summary: 'a user set a new password with a reset link (new keys; old factors destroyed)',
  },
  'user.disabled': { feature: 'portal', summary: 'a user was disabled (cannot sign in)' },
  'user.enabled': { feature: 'portal', summary: 'a disabled user was enabled again' },
  'setting.changed': { feature: 'portal', summary: 'a setting changed (old → new, never secrets)' },

  'mail.viewed': { feature: 'archive', summary: 'mail decrypted for viewing (message id)' },
  'mail.attachment_downloaded': { feature: 'archive', summary: 'attachment decrypted' },
  'mail.original_downloaded': { feature: 'archive', summary: 'original .eml decrypted' },
  'mail.pdf_downloaded': { feature: 'archive', summary: 'mail decrypted into a PDF' },
  'mail.searched': { feature: 'archive', summary: 'search over decrypted index (terms sealed)' },
  'mail.proof_downloaded': { feature: 'archive', summary: "a mail's proof bundle downloaded" },

  'export.created': { feature: 'lifecycle', summary: 'export started (scope, number of mails)' },
  'export.downloaded': { feature: 'lifecycle', summary: 'export file downloaded' },
  'restore.created': {
    feature: 'lifecycle',
    summary: 'a restore of mails into an IMAP mailbox started (server and folder; user sealed)',
  },
  'restore.mails_decrypted': {
    feature: 'lifecycle',
    summary: 'mails decrypted and appended to an IMAP mailbox, each by id',
  },
  'export.mails_decrypted': {
    feature: 'lifecycle',
    summary: 'the mails decrypted into one export part, each by id',
  },
  'export.expired': { feature: 'lifecycle', summary: 'export file deleted at expiry' },
  'mail.deleted': { feature: 'lifecycle', summary: 'mail deleted' },
  'retention.shredded': { feature: 'lifecycle', summary: 'epoch keys destroyed at retention end' },
  'legal_hold.set': { feature: 'lifecycle', summary: 'legal hold set (scope, reason)' },
  'legal_hold.released': { feature: 'lifecycle', summary: 'legal hold released' },
  'import.created': { feature: 'lifecycle', summary: 'mail import uploaded and started' },
  'import.finished': { feature: 'lifecycle', summary: 'mail import done (counts)' },
} as const satisfies Record<string, EventSpec>;

export type AuditAction = keyof typeof AUDIT_EVENTS;
