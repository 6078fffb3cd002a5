import { type RouteConfig, index, route } from '@react-router/dev/routes';

// Every route's loader/action starts with a guard (lib/guards.server.ts); test/e2e walks them all.
export default [
  index('routes/home.tsx'),
  route('login', 'routes/login.tsx'),
  route('login/second-factor', 'routes/login.second-factor.tsx'),
  route('setup/second-factor', 'routes/setup.second-factor.tsx'),
  route('invite/:token', 'routes/invite.$token.tsx'),
  route('invite', 'routes/invite.tsx'),
  route('settings/sessions', 'routes/settings.sessions.tsx'),
  route('settings/security', 'routes/settings.security.tsx'),
  route('settings/authenticator', 'routes/settings.authenticator.tsx'),
  route('settings/users', 'routes/settings.users.tsx'),
  route('settings/tenant', 'routes/settings.tenant.tsx'),
  route('audit', 'routes/audit.tsx'),
  route('webauthn/register', 'routes/webauthn.register.ts'),
  route('webauthn/login', 'routes/webauthn.login.ts'),
  route('reauth', 'routes/reauth.tsx'),
  route('logout', 'routes/logout.tsx'),
  route('lang', 'routes/lang.tsx'),
  route('*', 'routes/not-found.tsx'),
] satisfies RouteConfig;
