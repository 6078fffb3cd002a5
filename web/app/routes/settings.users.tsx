import { data, useActionData, useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { useT } from '../i18n';
import { rolesFor } from '../permissions';
import type { Role } from '../../../lib/db/schema';
import { z } from 'zod';
import { parseForm, text } from '../lib/form-schema';
import { formAction, formProblem, type FormProblem } from '../lib/form.server';
import { requireRecentAuth, requireRole } from '../lib/guards.server';
import { seeOther } from '../lib/http.server';
import { FormError } from '../components/FormError';

/** Owners and admins: the tenant's users, open invitations, and inviting someone new. */

const ROLES = ['admin', 'auditor', 'member'] as const;

export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/settings/users'));
  const { users, invites } = await context.services.listUsers(session);
  const requests = await context.services.sso.requests(session);
  return {
    me: session.userId,
    myRole: session.role,
    users: users.map((u) => ({
      id: u.id,
      email: u.email,
      role: u.role,
      secondFactor: !!u.totp_enrolled_at,
      disabled: !!u.disabled_at,
    })),
    invites: invites.map((i) => ({
      id: i.id,
      email: i.email,
      role: i.role,
      expiresAt: i.expires_at.toISOString(),
      reset: i.reset_user_id !== null,
    })),
    requests: requests.map((r) => ({ id: r.id, email: r.email, role: r.role })),
  };
}

const refused = (problem: FormProblem) =>
  data({ error: true as const, link: null, reset: null, problem }, { status: 400 });

/**
 * A refusal the page shows; someone else's user id (another tenant's, or made up) is not found:
 * 404 like any page.
 */
function refusedOrNotFound(e: unknown) {
  if (e instanceof Error && e.message === 'users.error.noSuchUser')
    throw data(null, { status: 404 });
  const problem = formProblem(e);
  if (problem) return refused(problem);
  throw e;
}

/**
 * A member's row (intent role, disable, enable, sessions or reset, with the user's id) or, without
 * an intent, an invitation. Roles and ids are checked by the domain (unknown ids answer 404).
 */
const usersForm = z.object({
  intent: z
    .enum(['role', 'disable', 'enable', 'sessions', 'reset', 'approve', 'reject'])
    .optional(),
  user: text(64),
  removePasskeys: text(8),
  role: text(32),
  email: text(320),
});

export const action = formAction(async function action({ request, context }: ActionArgs) {
  // Inviting seals the tenant key for someone new; role changes change privileges: both fresh.
  const { session, cookie } = await requireRecentAuth(
    request,
    context,
    rolesFor('/settings/users'),
  );
  const form = await parseForm(request, usersForm);
  const intent = form.intent;
  if (intent === 'approve' || intent === 'reject') {
    // Someone who arrived through single sign-on: approving grants them the tenant key.
    try {
      await context.services.sso.decide(session, cookie, {
        requestId: form.user,
        approve: intent === 'approve',
        ip: context.ip,
      });
      return seeOther('/settings/users');
    } catch (e) {
      return refusedOrNotFound(e);
    }
  }
  if (intent === 'reset') {
    try {
      const reset = await context.services.issueResetLink(session, cookie, {
        userId: form.user,
        removePasskeys: form.removePasskeys === 'on',
        ip: context.ip,
      });
      return data(
        {
          error: false as const,
          link: `${context.services.publicUrl}/invite/${reset.token}`,
          reset: reset.email,
        },
        { headers: { 'Cache-Control': 'no-store' } },
      );
    } catch (e) {
      return refusedOrNotFound(e);
    }
  }
  if (intent === 'role' || intent === 'disable' || intent === 'enable' || intent === 'sessions') {
    const userId = form.user;
    const ip = context.ip;
    try {
      if (intent === 'role')
        await context.services.changeRole(session, {
          userId,
          role: form.role as Role,
          ip,
        });
      else if (intent === 'sessions') await context.services.endSessionsOf(session, { userId, ip });
      else
        await context.services.setUserDisabled(session, {
          userId,
          disabled: intent === 'disable',
          ip,
        });
      return seeOther('/settings/users');
    } catch (e) {
      return refusedOrNotFound(e);
    }
  }
  const { role, email } = form;
  if (!ROLES.includes(role as (typeof ROLES)[number]))
    return refused({ code: 'users.error.role', params: {} });
  try {
    const invite = await context.services.createMemberInvite(session, cookie, {
      email,
      role: role as (typeof ROLES)[number],
      ip: context.ip,
    });
    return data(
      {
        error: false as const,
        link: `${context.services.publicUrl}/invite/${invite.token}`,
        reset: null,
      },
      { headers: { 'Cache-Control': 'no-store' } },
    );
  } catch (e) {
    const problem = formProblem(e);
    if (problem) return refused(problem);
    throw e;
  }
});

export default function Users() {
  const t = useT();
  const { users, invites, me, myRole, requests } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  return (
    <>
      <h1>{t('users.title')}</h1>
      <FormError />
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('login.email')}</th>
            <th scope="col">{t('users.role')}</th>
            <th scope="col">{t('users.secondFactor')}</th>
            <th scope="col">{t('users.access')}</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr key={u.id} data-testid="user">
              <td>{u.email}</td>
              <td>
                {u.role === 'owner' || u.id === me ? (
                  t(`role.${u.role}`)
                ) : (
                  <form method="post" className="inline">
                    <input type="hidden" name="intent" value="role" />
                    <input type="hidden" name="user" value={u.id} />
                    <select
                      name="role"
                      defaultValue={u.role}
                      aria-label={`${t('users.role')}: ${u.email}`}
                    >
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {t(`role.${r}`)}
                        </option>
                      ))}
                    </select>{' '}
                    <button type="submit">{t('users.changeRole')}</button>
                  </form>
                )}
              </td>
              <td>{u.secondFactor ? '✓' : '—'}</td>
              <td>
                {u.disabled && <strong>{t('users.disabled')} </strong>}
                {u.role !== 'owner' && u.id !== me && (
                  <>
                    <form method="post" className="inline">
                      <input type="hidden" name="intent" value="sessions" />
                      <input type="hidden" name="user" value={u.id} />
                      <button type="submit" aria-label={`${t('users.endSessions')}: ${u.email}`}>
                        {t('users.endSessions')}
                      </button>
                    </form>{' '}
                    <form method="post" className="inline">
                      <input
                        type="hidden"
                        name="intent"
                        value={u.disabled ? 'enable' : 'disable'}
                      />
                      <input type="hidden" name="user" value={u.id} />
                      <button
                        type="submit"
                        aria-label={`${t(u.disabled ? 'users.enable' : 'users.disable')}: ${u.email}`}
                      >
                        {t(u.disabled ? 'users.enable' : 'users.disable')}
                      </button>
                    </form>
                  </>
                )}
                {u.id !== me && (u.role !== 'owner' || myRole === 'owner') && (
                  <form method="post" className="inline">
                    <input type="hidden" name="intent" value="reset" />
                    <input type="hidden" name="user" value={u.id} />{' '}
                    <label>
                      <input type="checkbox" name="removePasskeys" /> {t('users.resetPasskeys')}
                    </label>{' '}
                    <button type="submit" aria-label={`${t('users.reset')}: ${u.email}`}>
                      {t('users.reset')}
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
          {invites.map((i) => (
            <tr key={i.id} data-testid="invite">
              <td>{i.email}</td>
              <td>{t(`role.${i.role}`)}</td>
              <td>{t(i.reset ? 'users.resetPending' : 'users.invited')}</td>
              <td />
            </tr>
          ))}
        </tbody>
      </table>
      {requests.length > 0 && (
        <>
          <h2>{t('users.requests')}</h2>
          <p>{t('users.requestsIntro')}</p>
          <ul data-testid="sso-requests">
            {requests.map((r) => (
              <li key={r.id}>
                {r.email} ({t(`role.${r.role}`)}){' '}
                {(['approve', 'reject'] as const).map((intent) => (
                  <form method="post" className="inline" key={intent}>
                    <input type="hidden" name="intent" value={intent} />
                    <input type="hidden" name="user" value={r.id} />
                    <button type="submit" aria-label={`${t(`users.${intent}`)}: ${r.email}`}>
                      {t(`users.${intent}`)}
                    </button>{' '}
                  </form>
                ))}
              </li>
            ))}
          </ul>
        </>
      )}
      <h2>{t('users.invite')}</h2>
      {result?.error && (
        <Alert>
          {result.problem && t.known(result.problem.code)
            ? t(result.problem.code, result.problem.params)
            : t('users.inviteFailed')}
        </Alert>
      )}
      {result?.link && (
        <div className="notice" role="status">
          <p>
            {result.reset
              ? t('users.resetLinkIntro', { email: result.reset })
              : t('users.linkIntro')}
          </p>
          <p className="secret" data-testid="invite-link">
            {result.link}
          </p>
        </div>
      )}
      <form method="post">
        <Field label={t('login.email')} name="email" type="email" autoComplete="off" />
        <label htmlFor="invite-role">{t('users.role')}</label>
        <select id="invite-role" name="role" defaultValue="member">
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`role.${r}`)}
            </option>
          ))}
        </select>
        <Submit>{t('users.inviteSubmit')}</Submit>
      </form>
    </>
  );
}
