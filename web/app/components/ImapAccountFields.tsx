import { z } from 'zod';
import { useT } from '../i18n';
import { secret, text } from '../lib/form-schema';
import { Field } from './Field';

/**
 * The fields naming an IMAP mailbox (import and restore, issue 22): server, TLS or STARTTLS
 * (never cleartext), port, user, password and an optional private CA.
 */
export const imapAccountSchema = {
  host: text(253),
  port: text(5),
  security: text(16),
  user: text(320),
  password: secret(1024),
  ca: secret(64 * 1024),
} satisfies z.ZodRawShape;

export function ImapAccountFields(props: { user?: string }) {
  const t = useT();
  return (
    <>
      <Field label={t('imap.host')} name="host" />
      <fieldset>
        <legend>{t('imap.security')}</legend>
        <label>
          <input type="radio" name="security" value="tls" defaultChecked /> {t('imap.tls')}
        </label>
        <label>
          <input type="radio" name="security" value="starttls" /> {t('imap.starttls')}
        </label>
      </fieldset>
      <Field label={t('imap.port')} name="port" inputMode="numeric" required={false} />
      <Field label={t('imap.user')} name="user" autoComplete="off" defaultValue={props.user} />
      <Field
        label={t('imap.password')}
        name="password"
        type="password"
        autoComplete="new-password"
      />
      <label>
        {t('imap.ca')}
        <textarea name="ca" rows={4} maxLength={65536} />
      </label>
    </>
  );
}
