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

/**
 * The audit page's action groups (issue 25 §1): what an auditor filters by. Each event is in one,
 * by what happened: an export's decryption of mails is a decryption.
 */
export const AUDIT_GROUPS = [
  'signins',
  'decryptions',
  'exports',
  'keys',
  'users',
  'settings',
  'retention',
  'ingest',
] as const;
export type AuditGroup = (typeof AUDIT_GROUPS)[number];

interface EventSpec {
  group: AuditGroup;
  feature: Feature;
  /** What happened, for docs/audit.md and the portal's audit view. */
  summary: string;
}

export const AUDIT_EVENTS = {
  'tenant.created': {
    group: 'users',
    feature: 'vault',
    summary: 'tenant created with its first administrator',
  },
  'key.created': {
    group: 'keys',
    feature: 'vault',
    summary: 'a key was created (tenant key, ledger signing key)',
  },
  'key.rotated': {
    group: 'keys',
    feature: 'vault',
    summary: 'tenant key rotated; live epoch keys re-sealed',
  },
  'key.recovered': {
    group: 'keys',
    feature: 'vault',
    summary: "a user's access restored with the recovery key",
  },
  'password.changed': {
    group: 'users',
    feature: 'vault',
    summary: 'a user changed their password',
  },
  'user.added': {
    group: 'users',
    feature: 'vault',
    summary: 'a user was given access to the tenant key',
  },
  'user.removed': {
    group: 'keys',
    feature: 'vault',
    summary: "a user's access removed (at key rotation)",
  },

  'search.rebuilt': {
    group: 'ingest',
    feature: 'archive',
    summary: "the tenant's search index was dropped and queued to be rebuilt from its mails",
  },
  'ingest_address.added': {
    group: 'settings',
    feature: 'ingestAddresses',
    summary: 'ingest address added',
  },
  'ingest_address.removed': {
    group: 'settings',
    feature: 'ingestAddresses',
    summary: 'ingest address removed',
  },
  'ingest_credential.created': {
    group: 'settings',
    feature: 'ingestAddresses',
    summary: "a credential for the tenant's mail servers created (shown once)",
  },
  'ingest_credential.revoked': {
    group: 'settings',
    feature: 'ingestAddresses',
    summary: "a credential of the tenant's mail servers revoked",
  },
  'journal_address.created': {
    group: 'settings',
    feature: 'ingestAddresses',
    summary: 'an SMTP journal address created (shown once)',
  },
  'journal_address.revoked': {
    group: 'settings',
    feature: 'ingestAddresses',
    summary: 'an SMTP journal address revoked',
  },
  'ingest.delivery_refused': {
    group: 'ingest',
    feature: 'ingest',
    summary:
      "an authenticated mail server named an address that is not the tenant's, or journal mail lacked the tenant's DKIM signature",
  },

  'mail.archived': {
    group: 'ingest',
    feature: 'ingest',
    summary: 'a received mail was stored and ledgered',
  },

  'audit.exported': {
    group: 'exports',
    feature: 'audit',
    summary: 'the audit log was exported for an auditor',
  },

  'auth.login.succeeded': { group: 'signins', feature: 'portal', summary: 'password accepted' },
  'auth.login.failed': { group: 'signins', feature: 'portal', summary: 'wrong e-mail or password' },
  'auth.login.attack_suspected': {
    group: 'signins',
    feature: 'portal',
    summary: '100 failed logins for an account within an hour: unknown sources now back off',
  },
  'auth.second_factor.succeeded': {
    group: 'signins',
    feature: 'portal',
    summary: 'second factor accepted',
  },
  'auth.second_factor.failed': {
    group: 'signins',
    feature: 'portal',
    summary: 'second factor rejected',
  },
  'auth.totp.added': { group: 'users', feature: 'portal', summary: 'TOTP authenticator enrolled' },
  'auth.totp.removed': { group: 'users', feature: 'portal', summary: 'TOTP authenticator removed' },
  'auth.passkey.added': { group: 'users', feature: 'portal', summary: 'passkey registered' },
  'auth.passkey.removed': { group: 'users', feature: 'portal', summary: 'passkey removed' },
  'auth.passkey.unlock_enabled': {
    group: 'keys',
    feature: 'portal',
    summary: 'a passkey (PRF) now also unlocks the keys: sign-in without password',
  },
  'auth.recovery_code.used': {
    group: 'signins',
    feature: 'portal',
    summary: 'a single-use recovery code was used',
  },
  'auth.sso.succeeded': {
    group: 'signins',
    feature: 'portal',
    summary: 'the tenant’s OpenID provider proved an identity (keys still locked)',
  },
  'auth.sso.failed': {
    group: 'signins',
    feature: 'portal',
    summary: 'a single sign-on failed (state, token, unverified e-mail, domain, provider)',
  },
  'auth.recovery_key.used': {
    group: 'signins',
    feature: 'portal',
    summary: "an owner's forgotten password: the recovery key opened a session (new password next)",
  },
  'auth.recovery_key.failed': {
    group: 'signins',
    feature: 'portal',
    summary: 'a wrong recovery key (or no owner with that address) at the forgotten-password page',
  },
  'session.created': {
    group: 'signins',
    feature: 'portal',
    summary: 'session started after both factors',
  },
  'session.revoked': {
    group: 'signins',
    feature: 'portal',
    summary: 'session ended by the user or an admin',
  },
  'session.expired': {
    group: 'signins',
    feature: 'portal',
    summary: 'session ended by inactivity timeout',
  },
  'user.invited': { group: 'users', feature: 'portal', summary: 'a user was invited' },
  'user.role_changed': { group: 'users', feature: 'portal', summary: "a user's role changed" },
  'user.access_requested': {
    group: 'users',
    feature: 'portal',
    summary: 'someone the tenant’s OpenID provider vouches for asked for an account',
  },
  'user.access_rejected': {
    group: 'users',
    feature: 'portal',
    summary: 'an access request was rejected',
  },
  'user.reset_issued': {
    group: 'users',
    feature: 'portal',
    summary: 'an owner or admin issued a reset link for a user (their sessions ended)',
  },
  'user.reset_completed': {
    group: 'users',
    feature: 'portal',
    summary: 'a user set a new password with a reset link (new keys; old factors destroyed)',
  },
  'user.disabled': {
    group: 'users',
    feature: 'portal',
    summary: 'a user was disabled (cannot sign in)',
  },
  'user.enabled': {
    group: 'users',
    feature: 'portal',
    summary: 'a disabled user was enabled again',
  },
  'setting.changed': {
    group: 'settings',
    feature: 'portal',
    summary: 'a setting changed (old → new, never secrets)',
  },

  'mail.viewed': {
    group: 'decryptions',
    feature: 'archive',
    summary: 'mail decrypted for viewing (message id)',
  },
  'mail.attachment_downloaded': {
    group: 'decryptions',
    feature: 'archive',
    summary: 'attachment decrypted',
  },
  'mail.original_downloaded': {
    group: 'decryptions',
    feature: 'archive',
    summary: 'original .eml decrypted',
  },
  'mail.pdf_downloaded': {
    group: 'decryptions',
    feature: 'archive',
    summary: 'mail decrypted into a PDF',
  },
  'mail.searched': {
    group: 'decryptions',
    feature: 'archive',
    summary: 'search over decrypted index (terms sealed)',
  },
  'mail.proof_downloaded': {
    group: 'decryptions',
    feature: 'archive',
    summary: "a mail's proof bundle downloaded",
  },

  'export.created': {
    group: 'exports',
    feature: 'lifecycle',
    summary: 'export started (scope, number of mails)',
  },
  'export.downloaded': {
    group: 'exports',
    feature: 'lifecycle',
    summary: 'export file downloaded',
  },
  'restore.created': {
    group: 'exports',
    feature: 'lifecycle',
    summary: 'a restore of mails into an IMAP mailbox started (server and folder; user sealed)',
  },
  'restore.mails_decrypted': {
    group: 'decryptions',
    feature: 'lifecycle',
    summary: 'mails decrypted and appended to an IMAP mailbox, each by id',
  },
  'export.mails_decrypted': {
    group: 'decryptions',
    feature: 'lifecycle',
    summary: 'the mails decrypted into one export part, each by id',
  },
  'export.expired': {
    group: 'exports',
    feature: 'lifecycle',
    summary: 'export file deleted at expiry',
  },
  'mail.deleted': { group: 'retention', feature: 'lifecycle', summary: 'mail deleted' },
  'retention.shredded': {
    group: 'retention',
    feature: 'lifecycle',
    summary: 'epoch keys destroyed at retention end',
  },
  'legal_hold.set': {
    group: 'retention',
    feature: 'lifecycle',
    summary: 'legal hold set (scope, reason)',
  },
  'legal_hold.released': {
    group: 'retention',
    feature: 'lifecycle',
    summary: 'legal hold released',
  },
  'import.created': {
    group: 'ingest',
    feature: 'lifecycle',
    summary: 'mail import uploaded and started',
  },
  'import.finished': {
    group: 'ingest',
    feature: 'lifecycle',
    summary: 'mail import done (counts)',
  },
} as const satisfies Record<string, EventSpec>;

export type AuditAction = keyof typeof AUDIT_EVENTS;

export const isAuditAction = (action: string): action is AuditAction =>
  Object.hasOwn(AUDIT_EVENTS, action);

/** The actions of a group, for the page's filter. */
export const actionsOf = (group: AuditGroup): AuditAction[] =>
  (Object.keys(AUDIT_EVENTS) as AuditAction[]).filter((a) => AUDIT_EVENTS[a].group === group);
