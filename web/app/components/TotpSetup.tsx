import { useT } from '../i18n';
import { Alert, Field, Submit } from './Field';

/** QR code and key of a new TOTP secret, and the form that confirms it with a code from the app. */
export function TotpSetup(props: { secret: string; qr?: string; failed: boolean }) {
  const t = useT();
  return (
    <>
      {props.qr && <div className="qr" dangerouslySetInnerHTML={{ __html: props.qr }} />}
      <p>
        {t('enrol.secret')}:{' '}
        <span className="secret" data-testid="totp-secret">
          {props.secret}
        </span>
      </p>
      {props.failed && <Alert>{t('enrol.failed')}</Alert>}
      <form method="post">
        <input type="hidden" name="secret" value={props.secret} />
        <Field
          label={t('enrol.code')}
          name="code"
          autoComplete="one-time-code"
          inputMode="numeric"
          autoFocus
        />
        <Submit>{t('enrol.submit')}</Submit>
      </form>
    </>
  );
}
