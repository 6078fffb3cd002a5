import { indexBacklog } from '../lib/search/index-store';
import type { Argon2Params } from '../lib/crypto/password';
import type { Db } from '../lib/db';
import {
  acceptMemberInvite,
  acceptSetupInvite,
  createMemberInvite,
  findInvite,
  inviteState,
  listUsers,
} from '../lib/auth/invites';
import {
  enrolTotp,
  logout,
  passwordStep,
  reauthenticate,
  reauthenticateWithCode,
  replaceTotp,
  secondFactorStep,
} from '../lib/auth/login';
import { changeRole, endSessionsOf, setUserDisabled } from '../lib/auth/roles';
import { changeOcrSetting, changeSessionSettings, ocrEnabled } from '../lib/auth/tenant-settings';
import { withTenant } from '../lib/db/tenant-scope';
import { passwordProblem } from '../lib/auth/password-policy';
import { changeOwnPassword } from '../lib/auth/password-change';
import { recoveryKeyStep, setRecoveredPassword } from '../lib/auth/password-recovery';
import { acceptResetLink, issueResetLink } from '../lib/auth/reset-links';
import { passwordlessOptions, passwordlessStep } from '../lib/auth/passkey-unlock';
import {
  parseSsoForm,
  readSsoSettings,
  saveSsoSettings,
  type SsoDeps,
} from '../lib/auth/sso-settings';
import { finishSso, requestAccess, startSso, unlockAfterSso } from '../lib/auth/sso-login';
import { readSsoTicket } from '../lib/auth/sso-tickets';
import { decideSsoRequest, listSsoRequests } from '../lib/auth/sso-requests';
import {
  listSessions,
  readSession,
  revokeSessions,
  sessionLimits,
  type SessionInfo,
  type SessionListing,
} from '../lib/auth/sessions';
import {
  createCertificateCredential,
  createPasswordCredential,
  credentialCertificate,
  IngestCredentialError,
  listCredentials,
  revokeCredential,
} from '../lib/ingest/credentials';
import type { IngestCa } from '../lib/ingest/ingest-ca';
import { requireManager } from '../lib/auth/roles';
import {
  createJournalAddress,
  journalAddressShown,
  listJournalAddresses,
  revokeJournalAddress,
} from '../lib/ingest/journal-addresses';
import {
  changeJournalDkimDomains,
  journalDkimDomains,
  parseDkimDomains,
} from '../lib/ingest/journal-settings';
import Bowser from 'bowser';
import { newTotpSecret, totpUri } from '../lib/auth/totp';
import {
  listPasskeys,
  passkeyLoginOptions,
  passkeyLoginStep,
  passkeyUnlockSetupOptions,
  setUpPasskeyUnlock,
  passkeyRegistrationOptions,
  registerPasskey,
  enrolPasskey,
  removePasskey,
  type RelyingParty,
} from '../lib/auth/passkeys';
import QRCode from 'qrcode';
import type { Archive } from './archive';
import type { Exports } from './exports';
import type { Imports } from './imports';
import { createImapImports } from './imap-imports';
import { createRestores } from './restores';
import { createAuditLog } from './audit-log';
import { createDashboard } from './dashboard';
import { createRetention } from './retention';
import { createKeyRotations } from './key-rotations';
import { mailBodyCsp } from '../lib/mail/sanitize';
import { recentIntegrityRuns } from '../lib/integrity/check';
import {
  countTenantJobs,
  failedArchiving,
  listTenantJobs,
  temporalUiLink,
  type JobFilter,
} from '../lib/jobs/list';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { publishedKeys, verifySteps } from '../lib/proof/verify-steps';
import { startTenantWorkflow } from '../lib/temporal/tenant-workflow';

/**
 * The domain operations the portal's routes may call. Route modules are bundled by Vite and import
 * only types from lib/; everything that touches keys or the database runs here, in the server
 * process, and reaches the routes through React Router's load context.
 */
export function createPortalServices(
  db: Db,
  rp: RelyingParty,
  publicUrl: string,
  archive: Archive,
  exports: Exports,
  imports: Imports,
  tsaRootPem: () => string,
  temporal: () => Promise<{ client: Client; taskQueue: string; uiUrl: string; namespace: string }>,
  /**
   * The ingest CA, when this deployment has one (certificate credentials), and the domain SMTP
   * journal addresses live on.
   */
  ingestCa: { load?: () => Promise<IngestCa>; validDays: number; journalDomain: string },
  ssoOptions: { wrapKey: Buffer; allowHttp: boolean },
  argon2?: Argon2Params,
) {
  const sso: SsoDeps = { db, publicUrl, ...ssoOptions };
  return {
    recentIntegrityRuns: (session: SessionInfo) => recentIntegrityRuns(db, session.tenantId),
    /**
     * The tenant's workflows by filter — failed first, then those being retried, then the rest —
     * with counts per state and, for the archiving jobs counted rather than listed, how many
     * mails arrived in the period; admins also get links into the Temporal UI.
     */
    listJobs: async (session: SessionInfo, filter: JobFilter = {}) => {
      const t = await temporal();
      const [rows, counts, archivingFailed, archived] = await Promise.all([
        listTenantJobs(t.client, session.tenantId, filter),
        countTenantJobs(t.client, session.tenantId, filter),
        failedArchiving(t.client, session.tenantId, filter.since),
        withTenant(db, session.tenantId, (tx) =>
          tx
            .selectFrom('messages')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('deleted_at', 'is', null)
            .$if(!!filter.since, (q) => q.where('received_at', '>=', filter.since!))
            .executeTakeFirstOrThrow(),
        ),
      ]);
      const admin = session.role === 'owner' || session.role === 'admin';
      return {
        rows: rows.map((r) => ({
          ...r,
          uiLink: admin ? temporalUiLink(t.uiUrl, t.namespace, r) : undefined,
        })),
        counts,
        archiving: { mails: Number(archived.n), failed: archivingFailed },
      };
    },
    /** What the index job still has to do (queue counts only: nothing is decrypted). */
    indexBacklog: (session: SessionInfo) => indexBacklog(db, session.tenantId),
    /** Starts an integrity check of the tenant now (one at a time per tenant). */
    startIntegrityCheck: async (session: SessionInfo): Promise<'started' | 'running'> => {
      const t = await temporal();
      try {
        await startTenantWorkflow(t, 'integrityCheck', {
          tenantId: session.tenantId,
          workflowId: `integrity-check-${session.tenantId}`,
          args: [{ tenantId: session.tenantId, trigger: 'manual' }],
        });
        return 'started';
      } catch (e) {
        if (e instanceof WorkflowExecutionAlreadyStartedError) return 'running';
        throw e;
      }
    },
    archive,
    exports,
    imports,
    imapImports: createImapImports({ db, temporal }),
    restores: createRestores({ db, temporal }),
    dashboard: createDashboard({ db, temporal }),
    auditLog: createAuditLog({ db, archive, tsaCaPem: tsaRootPem }),
    retention: createRetention({ db, holdMatches: archive.holdMatches, temporal }),
    keys: createKeyRotations({ db, temporal }),
    /** The tenant's mail-server credentials (owners and admins; the route asks for a fresh password). */
    ingestCredentials: {
      list: (session: SessionInfo) => {
        requireManager(session, 'ingest credentials');
        return listCredentials(db, session.tenantId);
      },
      /** Whether client certificates can be issued here (an ingest CA is configured). */
      certificates: !!ingestCa.load,
      create: (session: SessionInfo, label: string, ip: string) => {
        requireManager(session, 'ingest credentials');
        return createPasswordCredential(db, {
          tenantId: session.tenantId,
          label,
          actor: { type: 'user', id: session.userId },
          createdBy: session.email,
          ip,
        });
      },
      /** A client certificate, for a CSR's key or a key made here and shown once. */
      createCertificate: async (
        session: SessionInfo,
        input: { label: string; csrPem?: string },
        ip: string,
      ) => {
        requireManager(session, 'ingest credentials');
        if (!ingestCa.load) throw new IngestCredentialError('ingest.error.noCa');
        return createCertificateCredential(db, await ingestCa.load(), {
          tenantId: session.tenantId,
          label: input.label,
          actor: { type: 'user', id: session.userId },
          createdBy: session.email,
          ip,
          csrPem: input.csrPem,
          validDays: ingestCa.validDays,
        });
      },
      certificate: (session: SessionInfo, credentialId: string) => {
        requireManager(session, 'ingest credentials');
        return credentialCertificate(db, session.tenantId, credentialId);
      },
      revoke: (session: SessionInfo, credentialId: string, ip: string) => {
        requireManager(session, 'ingest credentials');
        return revokeCredential(db, {
          tenantId: session.tenantId,
          credentialId,
          actor: { type: 'user', id: session.userId },
          ip,
        });
      },
    },
    /** SMTP journal addresses and the DKIM rule for journal mail (owners and admins). */
    journal: {
      domain: ingestCa.journalDomain,
      list: async (session: SessionInfo) => {
        requireManager(session, 'journal addresses');
        const [addresses, dkimDomains] = await Promise.all([
          listJournalAddresses(db, session.tenantId),
          journalDkimDomains(db, session.tenantId),
        ]);
        return {
          addresses: addresses.map((a) => ({
            ...a,
            shown: journalAddressShown(a.hint, ingestCa.journalDomain),
          })),
          dkimDomains,
        };
      },
      create: (session: SessionInfo, label: string, ip: string) => {
        requireManager(session, 'journal addresses');
        return createJournalAddress(db, {
          tenantId: session.tenantId,
          label,
          domain: ingestCa.journalDomain,
          actor: { type: 'user', id: session.userId },
          createdBy: session.email,
          ip,
        });
      },
      revoke: (session: SessionInfo, addressId: string, ip: string) => {
        requireManager(session, 'journal addresses');
        return revokeJournalAddress(db, {
          tenantId: session.tenantId,
          addressId,
          actor: { type: 'user', id: session.userId },
          ip,
        });
      },
      requireDkim: (session: SessionInfo, raw: string, ip: string) => {
        requireManager(session, 'journal addresses');
        return changeJournalDkimDomains(
          db,
          { tenantId: session.tenantId, actor: { type: 'user', id: session.userId }, ip },
          parseDkimDomains(raw),
        );
      },
    },
    publishedKeys: (session: SessionInfo) => publishedKeys(db, session.tenantId),
    /** A dropped mail and bundle, checked in memory against our published keys. */
    verifyUpload: async (session: SessionInfo, zip: Uint8Array, mail: Uint8Array) =>
      verifySteps(zip, mail, {
        ...(await publishedKeys(db, session.tenantId)),
        tsaRootPem: tsaRootPem(),
      }),
    publicUrl: publicUrl.replace(/\/+$/, ''),
    readSession: (cookie: string | undefined) => readSession(db, cookie),
    passwordStep: (i: Omit<Parameters<typeof passwordStep>[1], 'argon2'>) =>
      passwordStep(db, { ...i, argon2 }),
    secondFactorStep: (...a: Tail<Parameters<typeof secondFactorStep>>) =>
      secondFactorStep(db, ...a),
    enrolTotp: (...a: Tail<Parameters<typeof enrolTotp>>) => enrolTotp(db, ...a),
    logout: async (...a: Tail<Parameters<typeof logout>>) => {
      archive.forget(a[0]);
      await logout(db, ...a);
    },
    findInvite: (token: string) => findInvite(db, token),
    inviteState: (token: string) => inviteState(db, token),
    acceptSetupInvite: (i: Omit<Parameters<typeof acceptSetupInvite>[1], 'argon2'>) =>
      acceptSetupInvite(db, { ...i, argon2 }),
    listSessions: async (
      ...a: Tail<Parameters<typeof listSessions>>
    ): Promise<(SessionListing & { device: string })[]> =>
      (await listSessions(db, ...a)).map((s) => ({ ...s, device: deviceOf(s.userAgent) })),
    revokeSessions: (...a: Tail<Parameters<typeof revokeSessions>>) => revokeSessions(db, ...a),
    sessionLimits: (...a: Tail<Parameters<typeof sessionLimits>>) => sessionLimits(db, ...a),
    passkeyRegistrationOptions: (session: SessionInfo) =>
      passkeyRegistrationOptions(db, rp, session),
    registerPasskey: (session: SessionInfo, i: Parameters<typeof registerPasskey>[3]) =>
      registerPasskey(db, rp, session, i),
    enrolPasskey: (session: SessionInfo, cookie: string, i: Parameters<typeof enrolPasskey>[4]) =>
      enrolPasskey(db, rp, session, cookie, i),
    passkeyLoginOptions: (session: SessionInfo) => passkeyLoginOptions(db, rp, session),
    passkeyLoginStep: (
      session: SessionInfo,
      cookie: string,
      i: Parameters<typeof passkeyLoginStep>[4],
    ) => passkeyLoginStep(db, rp, session, cookie, i),
    listPasskeys: (session: SessionInfo) => listPasskeys(db, session),
    passkeyUnlockSetupOptions: (session: SessionInfo, credential: string) =>
      passkeyUnlockSetupOptions(db, rp, session, credential),
    setUpPasskeyUnlock: (
      session: SessionInfo,
      cookie: string,
      i: Parameters<typeof setUpPasskeyUnlock>[4],
    ) => setUpPasskeyUnlock(db, rp, session, cookie, i),
    passwordlessOptions: () => passwordlessOptions(db, rp),
    /** Single sign-on (issue 21 §5): settings, the flow, the unlock after it, access requests. */
    sso: {
      settings: (session: SessionInfo) =>
        withTenant(db, session.tenantId, async (tx) =>
          session.role === 'owner'
            ? (await readSsoSettings(tx, session.tenantId))?.settings
            : undefined,
        ),
      parse: (input: Parameters<typeof parseSsoForm>[0]) => parseSsoForm(input, sso.allowHttp),
      save: (session: SessionInfo, i: Parameters<typeof saveSsoSettings>[2]) =>
        saveSsoSettings(sso, session, i),
      start: (i: Parameters<typeof startSso>[1]) => startSso(sso, i),
      finish: (i: Parameters<typeof finishSso>[1]) => finishSso(sso, i),
      ticket: (ticket: string | undefined) => readSsoTicket(sso, ticket),
      unlock: (ticket: string, i: Omit<Parameters<typeof unlockAfterSso>[2], 'argon2'>) =>
        unlockAfterSso(sso, ticket, { ...i, argon2 }),
      requestAccess: (ticket: string, i: Omit<Parameters<typeof requestAccess>[2], 'argon2'>) =>
        requestAccess(sso, ticket, { ...i, argon2 }),
      requests: (session: SessionInfo) => listSsoRequests(db, session),
      decide: (...a: Tail<Parameters<typeof decideSsoRequest>>) => decideSsoRequest(db, ...a),
    },
    passwordlessStep: (i: Parameters<typeof passwordlessStep>[2]) => passwordlessStep(db, rp, i),
    createMemberInvite: (...a: Tail<Parameters<typeof createMemberInvite>>) =>
      createMemberInvite(db, ...a),
    acceptMemberInvite: (i: Omit<Parameters<typeof acceptMemberInvite>[1], 'argon2'>) =>
      acceptMemberInvite(db, { ...i, argon2 }),
    issueResetLink: (...a: Tail<Parameters<typeof issueResetLink>>) => issueResetLink(db, ...a),
    acceptResetLink: (i: Omit<Parameters<typeof acceptResetLink>[1], 'argon2'>) =>
      acceptResetLink(db, { ...i, argon2 }),
    listUsers: (session: SessionInfo) => listUsers(db, session),
    reauthenticate: (
      session: SessionInfo,
      cookie: string,
      i: Omit<Parameters<typeof reauthenticate>[3], 'argon2'>,
    ) => reauthenticate(db, session, cookie, { ...i, argon2 }),
    reauthenticateWithCode: (...a: Tail<Parameters<typeof reauthenticateWithCode>>) =>
      reauthenticateWithCode(db, ...a),
    changeRole: (...a: Tail<Parameters<typeof changeRole>>) => changeRole(db, ...a),
    setUserDisabled: (...a: Tail<Parameters<typeof setUserDisabled>>) => setUserDisabled(db, ...a),
    endSessionsOf: (...a: Tail<Parameters<typeof endSessionsOf>>) => endSessionsOf(db, ...a),
    changeSessionSettings: (...a: Tail<Parameters<typeof changeSessionSettings>>) =>
      changeSessionSettings(db, ...a),
    ocrEnabled: (session: SessionInfo) =>
      withTenant(db, session.tenantId, (tx) => ocrEnabled(tx, session.tenantId)),
    changeOcrSetting: (...a: Tail<Parameters<typeof changeOcrSetting>>) =>
      changeOcrSetting(db, ...a),
    removePasskey: (...a: Tail<Parameters<typeof removePasskey>>) => removePasskey(db, ...a),
    replaceTotp: (...a: Tail<Parameters<typeof replaceTotp>>) => replaceTotp(db, ...a),
    passwordProblem,
    changeOwnPassword: (...a: Tail<Parameters<typeof changeOwnPassword>>) =>
      changeOwnPassword(db, ...a),
    recoveryKeyStep: (...a: Tail<Parameters<typeof recoveryKeyStep>>) => recoveryKeyStep(db, ...a),
    setRecoveredPassword: (
      session: SessionInfo,
      cookie: string,
      i: Omit<Parameters<typeof setRecoveredPassword>[3], 'argon2'>,
    ) => setRecoveredPassword(db, session, cookie, { ...i, argon2 }),
    mailBodyCsp,
    newTotpSecret,
    totpUri,
    qrSvg: (text: string) => QRCode.toString(text, { type: 'svg', margin: 1 }),
  };
}

/** "Firefox on Windows" — enough to recognise one's own devices in the sessions list. */
function deviceOf(ua: string | null): string {
  if (!ua) return '?';
  const r = Bowser.parse(ua);
  return [r.browser.name, r.os.name].filter(Boolean).join(' · ') || ua.slice(0, 60);
}

type Tail<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;
export type PortalServices = ReturnType<typeof createPortalServices>;
