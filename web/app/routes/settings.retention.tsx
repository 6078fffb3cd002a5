import { data, useActionData, useLoaderData } from 'react-router';
import type { ActionArgs, LoaderArgs } from '../context';
import { Alert, Field, Submit } from '../components/Field';
import { useT } from '../i18n';
import { dateTime } from '../lib/format';
import { z } from 'zod';
import { checkbox, formValues, parseValues, text } from '../lib/form-schema';
import { formAction, formProblem } from '../lib/form.server';
import { requireRecentAuth, requireRole } from '../lib/guards.server';
import { rolesFor } from '../permissions';
import { FormError } from '../components/FormError';

/**
 * Retention (issue 9 §2): classes and the address rules that pick them, legal holds, what the
 * sweep deleted, and a run now. Every change needs a fresh password: it decides what is deleted.
 */
export async function loader({ request, context }: LoaderArgs) {
  const { session } = await requireRole(request, context, rolesFor('/settings/retention'));
  const o = await context.services.retention.overview(session);
  return data(
    {
      classes: o.classes,
      rules: o.rules,
      holds: o.holds.map((h) => ({
        ...h,
        createdAt: h.createdAt.toISOString(),
        releasedAt: h.releasedAt?.toISOString() ?? null,
      })),
      shreds: o.shreds.map((s) => ({
        id: s.id,
        kind: s.kind,
        mails: s.message_count,
        ledgerIndex: s.ledger_index,
        at: s.created_at.toISOString(),
        retentionClass: s.retention_class,
        month: s.month,
      })),
    },
    { headers: { 'Cache-Control': 'no-store' } },
  );
}

/** What was entered, handed back with an error so that nothing typed is lost. */
type Entered = Partial<Record<'name' | 'amount' | 'unit' | 'pattern' | 'query' | 'reason', string>>;
type Result =
  | { ok: true; message: string; n?: number }
  | { ok: false; error: string; params?: Record<string, string | number>; entered?: Entered };

/**
 * Every form of the page, told apart by `intent`: a retention class, a rule, a legal hold and
 * their removal, a run. Bounds here are generous; the domain checks each value precisely and its
 * refusals come back with what was entered.
 */
const retentionForm = z.object({
  intent: text(16),
  name: text(200),
  amount: text(16),
  unit: text(16),
  confirmShort: checkbox(),
  pattern: text(1000),
  class: text(200),
  rule: text(64),
  query: text(1000),
  reason: text(2000),
  hold: text(64),
});

export const action = formAction(async function action({ request, context }: ActionArgs) {
  const { session, cookie } = await requireRecentAuth(
    request,
    context,
    rolesFor('/settings/retention'),
  );
  const values = formValues(await request.formData());
  const r = context.services.retention;
  const entered: Entered = {};
  for (const k of ['name', 'amount', 'unit', 'pattern', 'query', 'reason'] as const) {
    const v = values[k];
    if (typeof v === 'string') entered[k] = v;
  }
  const fail = (error: string, params: Record<string, string | number> = {}) =>
    data<Result>({ ok: false, error, params, entered }, { status: 400 });
  try {
    const form = parseValues(values, retentionForm);
    switch (form.intent) {
      case 'class': {
        // Shorter than the legal six years only on purpose: the box must be ticked.
        const short = form.unit !== 'years' || !(Number(form.amount) >= 6);
        if (short && !form.confirmShort) return fail('retention.confirmShortMissing');
        await r.saveClass(session, context.ip, {
          name: form.name,
          amount: Number(form.amount),
          unit: form.unit,
        });
        return data<Result>({ ok: true, message: 'retention.classSaved' });
      }
      case 'rule':
        await r.addRule(session, context.ip, {
          pattern: form.pattern,
          className: form.class,
        });
        return data<Result>({ ok: true, message: 'retention.ruleAdded' });
      case 'removeRule':
        await r.removeRule(session, context.ip, form.rule);
        return data<Result>({ ok: true, message: 'retention.ruleRemoved' });
      case 'hold': {
        const held = await r.setHold(session, cookie, context.ip, {
          query: form.query,
          reason: form.reason,
        });
        return data<Result>({ ok: true, message: 'retention.holdSet', n: held.matched });
      }
      case 'release': {
        const released = await r.releaseHold(session, context.ip, form.hold, form.reason);
        return released
          ? data<Result>({ ok: true, message: 'retention.holdReleased' })
          : fail('retention.holdNotActive');
      }
      case 'run':
        await r.startRun(session);
        return data<Result>({ ok: true, message: 'retention.runStarted' });
      default:
        return fail('retention.unknownIntent');
    }
  } catch (e) {
    // Input problems carry a message for the user; everything else is an outage.
    const problem = formProblem(e);
    if (problem) return fail(problem.code, problem.params);
    const name = (e as Error).name;
    if (name === 'ConnectionError' || /Temporal|connect/i.test((e as Error).message))
      return data<Result>({ ok: false, error: 'retention.unavailable' }, { status: 503 });
    throw e;
  }
});

export default function Retention() {
  const t = useT();
  const { classes, rules, holds, shreds } = useLoaderData<typeof loader>();
  const result = useActionData<typeof action>();
  const entered = (result && !result.ok && result.entered) || {};
  const say = (s: string, vars: Record<string, string | number> = {}) =>
    t.known(s) ? t(s, vars) : t('form.invalid');
  return (
    <div className="wide">
      <h1>{t('retention.title')}</h1>
      <FormError />
      <p>{t('retention.intro')}</p>
      {result &&
        (result.ok ? (
          <Alert kind="notice">{say(result.message, { n: result.n ?? '' })}</Alert>
        ) : (
          <Alert>{say(result.error, result.params)}</Alert>
        ))}

      <h2>{t('retention.classes')}</h2>
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('retention.class')}</th>
            <th scope="col">{t('retention.keep')}</th>
          </tr>
        </thead>
        <tbody>
          {classes.map((c) => (
            <tr key={c.name} data-testid="retention-class">
              <td>
                <code>{c.name}</code>
              </td>
              <td>
                {c.amount} {t(`retention.unit.${c.unit}`)}
                {c.belowLegalMinimum && ` — ${t('retention.belowMinimum')}`}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post" aria-label={t('retention.saveClass')}>
        <input type="hidden" name="intent" value="class" />
        <Field label={t('retention.className')} name="name" defaultValue={entered.name} />
        <Field
          label={t('retention.amount')}
          name="amount"
          type="number"
          inputMode="numeric"
          defaultValue={entered.amount}
        />
        <label htmlFor="retention-unit">{t('retention.unitLabel')}</label>
        <select id="retention-unit" name="unit" defaultValue={entered.unit ?? 'years'}>
          {(['years', 'months', 'days', 'minutes'] as const).map((u) => (
            <option key={u} value={u}>
              {t(`retention.unit.${u}`)}
            </option>
          ))}
        </select>
        <label>
          <input type="checkbox" name="confirmShort" /> {t('retention.confirmShort')}
        </label>
        <Submit>{t('retention.saveClass')}</Submit>
      </form>

      <h2>{t('retention.rules')}</h2>
      <p>{t('retention.rulesIntro')}</p>
      <table className="list">
        <tbody>
          {rules.map((r) => (
            <tr key={r.id} data-testid="retention-rule">
              <td>
                <code>{r.pattern}</code> → <code>{r.className}</code>
              </td>
              <td>
                <form method="post">
                  <input type="hidden" name="intent" value="removeRule" />
                  <input type="hidden" name="rule" value={r.id} />
                  <button type="submit">{t('retention.removeRule')}</button>
                </form>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post" aria-label={t('retention.addRule')}>
        <input type="hidden" name="intent" value="rule" />
        <Field label={t('retention.pattern')} name="pattern" defaultValue={entered.pattern} />
        <label htmlFor="retention-rule-class">{t('retention.class')}</label>
        <select id="retention-rule-class" name="class">
          {classes.map((c) => (
            <option key={c.name} value={c.name}>
              {c.name}
            </option>
          ))}
        </select>
        <Submit>{t('retention.addRule')}</Submit>
      </form>

      <h2>{t('retention.holds')}</h2>
      <p>{t('retention.holdsIntro')}</p>
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('retention.holdScope')}</th>
            <th scope="col">{t('retention.reason')}</th>
            <th scope="col">{t('retention.holdState')}</th>
          </tr>
        </thead>
        <tbody>
          {holds.map((h) => (
            <tr key={h.id} data-testid="legal-hold">
              <td>
                <code>{h.query}</code>
                <br />
                {t('retention.holdMatched', { n: String(h.matched) })}
              </td>
              <td>{h.reason}</td>
              <td>
                {h.releasedAt ? (
                  t('retention.released', {
                    at: dateTime(t.lang, h.releasedAt),
                    reason: h.releaseReason ?? '',
                  })
                ) : (
                  <form method="post">
                    {t('retention.activeSince', {
                      at: dateTime(t.lang, h.createdAt),
                      by: h.createdBy,
                    })}
                    <input type="hidden" name="intent" value="release" />
                    <input type="hidden" name="hold" value={h.id} />
                    <Field label={t('retention.releaseReason')} name="reason" />
                    <button type="submit">{t('retention.release')}</button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post" aria-label={t('retention.setHold')}>
        <input type="hidden" name="intent" value="hold" />
        <Field label={t('retention.holdQuery')} name="query" defaultValue={entered.query} />
        <Field label={t('retention.reason')} name="reason" defaultValue={entered.reason} />
        <Submit>{t('retention.setHold')}</Submit>
      </form>

      <h2>{t('retention.deletions')}</h2>
      <form method="post">
        <input type="hidden" name="intent" value="run" />
        <button type="submit">{t('retention.runNow')}</button>
      </form>
      <table className="list">
        <thead>
          <tr>
            <th scope="col">{t('retention.deletedAt')}</th>
            <th scope="col">{t('retention.what')}</th>
            <th scope="col">{t('retention.ledger')}</th>
          </tr>
        </thead>
        <tbody>
          {shreds.map((s) => (
            <tr key={s.id} data-testid="shred">
              <td>{dateTime(t.lang, s.at)}</td>
              <td>
                {t(s.kind === 'epoch' ? 'retention.shredEpoch' : 'retention.shredMails', {
                  n: String(s.mails),
                  cls: s.retentionClass,
                  month: s.month,
                })}
              </td>
              <td>{s.ledgerIndex === null ? '…' : `#${s.ledgerIndex}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
