import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { useState } from 'react';
import { Alert } from './Field';

/**
 * The one part of the portal that needs JavaScript: a WebAuthn ceremony. Options come from the
 * resource route /webauthn/<mode>, the browser's authenticator answers, the server verifies.
 */
export function PasskeyButton(props: {
  mode: 'register' | 'login';
  label: string;
  failed: string;
  done: string;
  name?: string;
  /** Takes over after a successful ceremony instead of going to `done`. */
  onVerified?: (answer: Record<string, unknown>) => void;
}) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  async function run() {
    const post = (body: unknown) =>
      fetch(`/webauthn/${props.mode}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const options = await post({ step: 'options' });
    if (options.status === 403) {
      const { reauth } = (await options.json()) as { reauth?: string };
      if (reauth) return window.location.assign(reauth);
    }
    if (!options.ok) throw new Error(String(options.status));
    const optionsJSON = await options.json();
    const response =
      props.mode === 'register'
        ? await startRegistration({ optionsJSON })
        : await startAuthentication({ optionsJSON });
    const verified = await post({ step: 'verify', response, name: props.name });
    if (!verified.ok) throw new Error(String(verified.status));
    if (props.onVerified) props.onVerified((await verified.json()) as Record<string, unknown>);
    else window.location.assign(props.done);
  }
  return (
    <>
      <button
        type="button"
        className="primary"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          setError(undefined);
          run().catch(() => {
            setError(props.failed);
            setBusy(false);
          });
        }}
      >
        {props.label}
      </button>
      {error && <Alert>{error}</Alert>}
    </>
  );
}
