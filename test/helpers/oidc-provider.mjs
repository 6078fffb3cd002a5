// A real OpenID provider on loopback for the single sign-on tests (issue 21 §5): oidc-provider
// (OpenID certified), run as its own Node process because it is an ES module Jest cannot load.
// Usage: node oidc-provider.mjs <port> <issuer> '<json: { clients, accounts }>'
// Prints "ready" when listening. `GET /__test/audience?aud=x` makes later token responses carry
// an ID token re-signed with the provider's own key for audience x (a forged-audience test);
// `aud=` turns that off.
import Provider from 'oidc-provider';
import * as jose from 'jose';

const [port, issuer, json] = process.argv.slice(2);
const { clients, accounts } = JSON.parse(json);
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const jwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: clients.map((c) => ({
    ...c,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  jwks: { keys: [jwk] },
  async findAccount(_ctx, id) {
    const claims = accounts[id] ?? { email: `${id}@unbekannt.example`, email_verified: false };
    return { accountId: id, claims: () => ({ sub: id, ...claims }) };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['groups'] },
  // The claims go into the ID token itself (the portal reads no userinfo).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: ['only-for-tests'] },
});

let forgedAudience = '';
provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/audience') {
    forgedAudience = String(ctx.query.aud ?? '');
    ctx.body = 'ok';
    return;
  }
  await next();
  if (ctx.path === '/token' && forgedAudience && ctx.body && ctx.body.id_token) {
    const payload = jose.decodeJwt(ctx.body.id_token);
    ctx.body.id_token = await new jose.SignJWT({ ...payload, aud: forgedAudience })
      .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
      .sign(privateKey);
  }
});

// Every loopback address: the wrong-issuer test reaches it as localhost.
provider.listen(Number(port), () => console.log('ready'));
