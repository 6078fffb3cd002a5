import type { Argon2Params } from '../lib/crypto/password';
import type { Db } from '../lib/db';
import { acceptSetupInvite, findInvite } from '../lib/auth/invites';
import { enrolTotp, logout, passwordStep, secondFactorStep } from '../lib/auth/login';
import { passwordProblem } from '../lib/auth/password-policy';
import { readSession } from '../lib/auth/sessions';
import { newTotpSecret, totpUri } from '../lib/auth/totp';
import QRCode from 'qrcode';

/**
 * The domain operations the portal's routes may call. Route modules are bundled by Vite and import
 * only types from lib/; everything that touches keys or the database runs here, in the server
 * process, and reaches the routes through React Router's load context.
 */
export function createPortalServices(db: Db, argon2?: Argon2Params) {
  return {
    readSession: (cookie: string | undefined) => readSession(db, cookie),
    passwordStep: (i: Omit<Parameters<typeof passwordStep>[1], 'argon2'>) =>
      passwordStep(db, { ...i, argon2 }),
    secondFactorStep: (...a: Tail<Parameters<typeof secondFactorStep>>) =>
      secondFactorStep(db, ...a),
    enrolTotp: (...a: Tail<Parameters<typeof enrolTotp>>) => enrolTotp(db, ...a),
    logout: (...a: Tail<Parameters<typeof logout>>) => logout(db, ...a),
    findInvite: (token: string) => findInvite(db, token),
    acceptSetupInvite: (i: Omit<Parameters<typeof acceptSetupInvite>[1], 'argon2'>) =>
      acceptSetupInvite(db, { ...i, argon2 }),
    passwordProblem,
    newTotpSecret,
    totpUri,
    qrSvg: (text: string) => QRCode.toString(text, { type: 'svg', margin: 1 }),
  };
}

type Tail<T extends unknown[]> = T extends [unknown, ...infer R] ? R : never;
export type PortalServices = ReturnType<typeof createPortalServices>;
