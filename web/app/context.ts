import type { ActionFunctionArgs, LoaderFunctionArgs, RouterContextProvider } from 'react-router';
import type { PortalServices } from '../../application/portal';

/**
 * What web/server.ts hands every loader and action. React Router 8 passes one
 * RouterContextProvider per request to every middleware, loader and action; web/server.ts makes it
 * an instance carrying these fields (docs/decisions/0015), so routes read `context.services`
 * as before, typed.
 */
export interface PortalContext extends RouterContextProvider {
  services: PortalServices;
  ip: string;
  userAgent?: string;
  /** The CSP nonce of this response. */
  nonce: string;
  /** Secure cookies unless the portal runs on plain HTTP in development. */
  secureCookies: boolean;
  /**
   * Set by an action that replaced the session (second factor, enrolment): the loaders of the
   * same request then see the new session, not the ended one in the request's cookie.
   */
  sessionCookie?: string;
  /** Logs a fault with its id (entry.server's handleError); the error page shows the id. */
  logFault: (errorId: string, err: unknown, path: string) => void;
  errorId?: string;
}

/** Loader and action arguments with our context typed. */
export type LoaderArgs = LoaderFunctionArgs<PortalContext>;
export type ActionArgs = ActionFunctionArgs<PortalContext>;
