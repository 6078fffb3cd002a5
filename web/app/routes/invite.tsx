import type { ActionArgs, LoaderArgs } from '../context';
import { data, useActionData, useLoaderData } from 'react-router';
import { Alert, Field, Submit } from '../components/Field';
import { useT, type MessageKey } from '../i18n';
import { clearCookie, cookiesOf, INVITE_COOKIE, seeOther, actionHeaders } from '../lib/http.server';
import { adoptSession } from '../lib/guards.server';
import { z } from 'zod';
import { parseForm, secret, text } from '../lib/form-schema';
import { formAction } from '../lib/form.server';
import { FormError } from '../components/FormError';
import { atPhrase } from '../lib/format';

/**
 * Accepting an owner invitation: password → recovery key (shown once, confirmed by typing one
 * block of it) → second-factor enrolment. The invitation token comes from the cookie set by
 * /invite/:token; it is the credential of this page.
 */

async function inviteOf(request: Request, context: LoaderArgs['context']) {
  const token = cookiesOf(request, context)[INVITE_COOKIE];
  return token ? { token, invite: await context.services.findInvite(token) } : undefined;
}

export const headers = actionHeaders;

export async function loader({ request, context }: LoaderArgs) {
  const found = await inviteOf(request, context);
  if (!found?.invite) {
    // Why it no longer works, and when it expired: the holder learns what to do (issue 25 §3).
    const gone = found && (await context.services.inviteState(found.token));
    return {
      invite: null,
      gone:
        gone && gone.state !== 'open'
          ? { state: gone.state, expiresAt: gone.expiresAt.toISOString() }
          : null,
    };
  }
  return {
    gone: null,
    invite: {
      tenant: found.invite.tenantName ?? '',
      email: found.invite.email,
      owner: found.invite.role === 'owner' && !found.invite.resetUserId,
      reset: !!found.invite.resetUserId,
    },
  };
}

const BLOCK = 3;
const blockOf = (key: string, n: number) => key.split('-')[n - 1] ?? '';

/** The new password twice, or (intent confirm-recovery) a block typed back from the recovery key. */
const inviteForm = z.object({
  intent: text(32),
  recoveryKey: secret(200),
  block: text(16),
  password: secret(1024),
  confirm: secret(1024),
});

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const form = await parseForm(request, inviteForm);
  if (form.intent === 'confirm-recovery') {
    const key = form.recoveryKey;
    const typed = form.block.toUpperCase();
    if (typed && typed === blockOf(key, BLOCK)) return seeOther('/setup/second-factor');
    return data({ stage: 'recovery' as const, recoveryKey: key, mismatch: true }, { status: 400 });
  }
  const found = await inviteOf(request, context);
  if (!found?.invite)
    return data(
      { stage: 'password' as const, problem: 'invite.invalid' as MessageKey },
      { status: 404 },
    );
  const password = form.password;
  const problem = context.services.passwordProblem(password, found.invite.email);
  if (problem)
    return data(
      { stage: 'password' as const, problem: `password.${problem}` as MessageKey },
      { status: 400 },
    );
  if (password !== form.confirm)
    return data(
      { stage: 'password' as const, problem: 'invite.mismatch' as MessageKey },
      { status: 400 },
    );
  if (found.invite.role !== 'owner' || found.invite.resetUserId) {
    // A further user, or a reset: no recovery key (that is the tenant's, kept by its owner);
    // the second factor next (enrolled again, or a passkey the reset kept).
    const accept = found.invite.resetUserId
      ? context.services.acceptResetLink
      : context.services.acceptMemberInvite;
    const accepted = await accept({
      token: found.token,
      password,
      ip: context.ip,
      userAgent: context.userAgent,
    }).catch((e: Error) => {
      if (e.name === 'InviteError') return e.message as MessageKey;
      throw e;
    });
    if (typeof accepted === 'string')
      return data({ stage: 'password' as const, problem: accepted }, { status: 409 });
    const { cookie } = accepted;
    // A reset that kept passkeys goes on to the second factor; the guard sends the rest to enrol.
    return seeOther(
      found.invite.resetUserId ? '/login/second-factor' : '/setup/second-factor',
      adoptSession(context, cookie),
      clearCookie(context, INVITE_COOKIE, '/invite'),
    );
  }
  const accepted = await context.services.acceptSetupInvite({
    token: found.token,
    password,
    ip: context.ip,
    userAgent: context.userAgent,
  });
  const headers = new Headers();
  headers.append('Set-Cookie', adoptSession(context, accepted.cookie));
  headers.append('Set-Cookie', clearCookie(context, INVITE_COOKIE, '/invite'));
  headers.set('Cache-Control', 'no-store');
  return data(
    { stage: 'recovery' as const, recoveryKey: accepted.recoveryKey, mismatch: false },
    { headers },
  );
});

function RecoveryKey({ recoveryKey, mismatch }: { recoveryKey: string; mismatch: boolean }) {
  const t = useT();
  const file = `mailrepo recovery key / Wiederherstellungsschlüssel\n\n${recoveryKey}\n`;
  return (
    <>
      <h1>{t('recovery.title')}</h1>
      <p>{t('recovery.intro')}</p>
      <p className="secret" data-testid="recovery-key">
        {recoveryKey}
      </p>
      <p>
        <a
          download="mailrepo-recovery-key.txt"
          href={`data:text/plain;charset=utf-8,${encodeURIComponent(file)}`}
        >
          {t('recovery.download')}
        </a>
      </p>
      {mismatch && <Alert>{t('recovery.mismatch')}</Alert>}
      <form method="post">
        <input type="hidden" name="intent" value="confirm-recovery" />
        <input type="hidden" name="recoveryKey" value={recoveryKey} />
        <Field label={t('recovery.confirmLabel', { n: BLOCK })} name="block" autoComplete="off" />
        <Submit>{t('recovery.confirm')}</Submit>
      </form>
    </>
  );
}

export default function Invite() {
  const t = useT();
  const { invite, gone } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  if (result?.stage === 'recovery')
    return <RecoveryKey recoveryKey={result.recoveryKey} mismatch={result.mismatch} />;
  if (!invite)
    return (
      <>
        <h1>{t('invite.title')}</h1>
        <FormError />
        <Alert>
          {gone?.state === 'expired'
            ? t('invite.expiredAt', { when: atPhrase(t.lang, gone.expiresAt, new Date()) })
            : gone?.state === 'used'
              ? t('invite.used')
              : gone?.state === 'revoked'
                ? t('invite.revoked')
                : t('invite.invalid')}
        </Alert>
      </>
    );
  return (
    <>
      <h1>{t('invite.title')}</h1>
      <p>
        {t(
          invite.reset ? 'invite.resetIntro' : invite.owner ? 'invite.intro' : 'invite.memberIntro',
          {
            tenant: invite.tenant,
            email: invite.email,
          },
        )}
      </p>
      {result?.stage === 'password' && <Alert>{t(result.problem)}</Alert>}
      <form method="post">
        <input type="hidden" name="intent" value="password" />
        <Field
          label={t('invite.password')}
          name="password"
          type="password"
          autoComplete="new-password"
        />
        <Field
          label={t('invite.confirm')}
          name="confirm"
          type="password"
          autoComplete="new-password"
        />
        <Submit>{t('invite.submit')}</Submit>
      </form>
    </>
  );
}
