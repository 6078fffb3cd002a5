import {
  base64URLStringToBuffer,
  bufferToBase64URLString,
  startAuthentication,
  startRegistration,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/browser';
import { useState } from 'react';
import { Alert } from './Field';

/**
 * The one part of the portal that needs JavaScript: a WebAuthn ceremony. Options come from the
 * resource route /webauthn/<mode>, the browser's authenticator answers, the server verifies.
 * A passkey that supports the PRF extension is also set up to unlock the keys without a password
 * (register), and can then sign in alone (passwordless; lib/auth/passkey-unlock.ts).
 */

const post = (path: string, body: unknown) =>
  fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

class NoUnlock extends Error {}
class SsoFirst extends Error {}

/**
 * An assertion with the PRF extension. The JSON options carry the PRF input as base64url, which
 * the browser wants as bytes; its output comes back as bytes, which JSON would lose — it is taken
 * out of the response and sent beside it.
 */
async function assertWithPrf(optionsJSON: PublicKeyCredentialRequestOptionsJSON) {
  const prfInput = (optionsJSON.extensions as { prf?: { eval?: { first?: unknown } } } | undefined)
    ?.prf?.eval;
  if (prfInput && typeof prfInput.first === 'string')
    prfInput.first = base64URLStringToBuffer(prfInput.first);
  const response: AuthenticationResponseJSON = await startAuthentication({ optionsJSON });
  const results = response.clientExtensionResults as {
    prf?: { results?: { first?: ArrayBuffer } };
  };
  const first = results.prf?.results?.first;
  const prf = first ? bufferToBase64URLString(first) : undefined;
  delete results.prf;
  return { response, prf };
}

async function setUpUnlock(credential: string) {
  const options = await post('/webauthn/register', { step: 'unlock-options', credential });
  if (!options.ok) throw new Error(String(options.status));
  const { response, prf } = await assertWithPrf(await options.json());
  if (!prf) return; // The authenticator announced PRF but gave none: a second factor only.
  const done = await post('/webauthn/register', { step: 'unlock', response, prf });
  if (!done.ok) throw new Error(String(done.status));
}

export function PasskeyButton(props: {
  mode: 'register' | 'login' | 'passwordless';
  label: string;
  failed: string;
  /** Shown when a passkey without PRF tries to sign in alone. */
  noUnlock?: string;
  /** Shown when the tenant requires single sign-on before a passkey unlocks. */
  ssoFirst?: string;
  done: string;
  name?: string;
  /** Takes over after a successful ceremony instead of going to `done`. */
  onVerified?: (answer: Record<string, unknown>) => void;
}) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const path = `/webauthn/${props.mode}`;
  async function run() {
    const options = await post(path, { step: 'options' });
    if (options.status === 403) {
      const { reauth } = (await options.json()) as { reauth?: string };
      if (reauth) return window.location.assign(reauth);
    }
    if (!options.ok) throw new Error(String(options.status));
    const optionsJSON = await options.json();
    let verified: Response;
    let unlockFor: string | undefined;
    if (props.mode === 'register') {
      const response = await startRegistration({ optionsJSON });
      verified = await post(path, { step: 'verify', response, name: props.name });
      const prf = (response.clientExtensionResults as { prf?: { enabled?: boolean } }).prf;
      if (prf?.enabled) unlockFor = response.id;
    } else if (props.mode === 'passwordless') {
      const { response, prf } = await assertWithPrf(optionsJSON);
      verified = await post(path, { step: 'verify', response, prf });
      if (verified.status === 409) throw new NoUnlock();
      if (verified.status === 403) throw new SsoFirst();
    } else {
      verified = await post(path, { step: 'verify', response: await startAuthentication({ optionsJSON }) }); // prettier-ignore
    }
    if (!verified.ok) throw new Error(String(verified.status));
    const answer = (await verified.json()) as Record<string, unknown>;
    // If this second ceremony fails, the passkey stays a second factor (the settings page says so).
    if (unlockFor) await setUpUnlock(unlockFor).catch(() => undefined);
    if (props.onVerified) props.onVerified(answer);
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
          run().catch((e: unknown) => {
            setError(
              e instanceof NoUnlock && props.noUnlock
                ? props.noUnlock
                : e instanceof SsoFirst && props.ssoFirst
                  ? props.ssoFirst
                  : props.failed,
            );
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
