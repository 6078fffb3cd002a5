import type { Role } from '../../lib/db/schema';

/**
 * The permission matrix (docs/permissions.md is its prose form; a unit test keeps both equal).
 * Every page behind the login names its roles here and its guard reads them from here. Anyone
 * else gets 404. Sensitive actions additionally need a fresh password (re-authentication).
 */
export const PERMISSIONS = {
  '/': ['owner', 'admin', 'auditor', 'member'],
  '/settings/sessions': ['owner', 'admin', 'auditor', 'member'],
  '/settings/security': ['owner', 'admin', 'auditor', 'member'],
  '/settings/password': ['owner', 'admin', 'auditor', 'member'],
  '/settings/authenticator': ['owner', 'admin', 'auditor', 'member'],
  '/settings/users': ['owner', 'admin'],
  '/settings/tenant': ['owner', 'admin'],
  '/settings/integrity': ['owner', 'admin'],
  /** Retention classes, rules, legal holds and deletions. */
  '/settings/retention': ['owner', 'admin'],
  /** The tenant key: rotation, its schedule, removing a member's access. */
  '/settings/keys': ['owner', 'admin'],
  /** Credentials of the tenant's mail servers (who may deliver over LMTP). */
  '/settings/ingest': ['owner', 'admin'],
  /** Single sign-on with the tenant's OpenID provider: issuer, client, domains, roles. */
  '/settings/sso': ['owner'],
  '/audit': ['owner', 'admin', 'auditor'],
  '/jobs': ['owner', 'admin', 'auditor'],
  /** The archive and each mail's pages and downloads; a member sees their own mailbox only. */
  '/mail': ['owner', 'admin', 'auditor', 'member'],
  '/verify': ['owner', 'admin', 'auditor', 'member'],
  /** Exports and their files; a member exports their own mailbox, sees their own exports. */
  '/exports': ['owner', 'admin', 'auditor', 'member'],
  /** Restoring mails into an IMAP mailbox; all but owners and admins into their own mailbox only. */
  '/restores': ['owner', 'admin', 'auditor', 'member'],
  /** Importing historical mail (MBOX, ZIP of .eml, IMAP mailboxes). */
  '/imports': ['owner', 'admin'],
} as const satisfies Record<string, readonly Role[]>;

export type GuardedPage = keyof typeof PERMISSIONS;
export const rolesFor = (page: GuardedPage): Role[] => [...PERMISSIONS[page]];
