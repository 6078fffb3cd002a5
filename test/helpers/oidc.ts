import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../infra/processes';

/**
 * A real OpenID provider (oidc-provider, test/helpers/oidc-provider.mjs) on loopback, as its own
 * process, for the single sign-on tests. Accounts are named by login; their claims are given.
 */
export interface OidcAccount {
  email: string;
  email_verified: boolean;
  groups?: string[];
}

export async function startOidcProvider(input: {
  clients: { client_id: string; client_secret: string; redirect_uris: string[] }[];
  accounts: Record<string, OidcAccount>;
}) {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [path.join(__dirname, 'oidc-provider.mjs'), String(port), issuer, JSON.stringify(input)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let errors = '';
  child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`OpenID provider exited (${code}): ${errors}`)));
  });
  return {
    issuer,
    port,
    /** Later ID tokens are re-signed by the provider's key for another audience ('' = off). */
    forgeAudience: async (aud: string) => {
      const r = await fetch(`${issuer}/__test/audience?aud=${encodeURIComponent(aud)}`);
      if (!r.ok) throw new Error(`provider control: ${r.status}`);
    },
    stop: () => {
      child.removeAllListeners('exit');
      child.kill();
    },
  };
}
