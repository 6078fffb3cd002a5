import { buildRequest, verifyResponse } from '../lib/tsa/client';
import { createDevPki } from '../lib/tsa/dev-ca';
import { respond } from '../lib/tsa/responder';
import { fmt, opsPerSecond } from './measure';

/** Dev TSA token issuance and full client verification, in process (no HTTP). */
export async function benchTsa(): Promise<void> {
  const pki = await createDevPki();
  const data = new TextEncoder().encode('checkpoint');
  const req = buildRequest(data);
  const resp = await respond(req.der, { signer: pki.tsa });
  const issue = await opsPerSecond(() => respond(req.der, { signer: pki.tsa }));
  const verify = await opsPerSecond(() =>
    verifyResponse(resp, { data, nonce: req.nonce, caPem: pki.ca.certPem }),
  );
  console.log(`dev TSA: issue ${fmt(issue)} tokens/s, client verify ${fmt(verify)} tokens/s`);
}
