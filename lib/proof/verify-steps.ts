import type { Db } from '../db';
import { verifierKey } from '../ledger/checkpoint';
import { BundleVerifyError, VERIFY_STEPS, verifyBundle, type VerifyStep } from './verify-bundle';

/**
 * The portal's verify page: a mail and its proof bundle checked step by step, in memory only (the
 * uploads are never stored), against the keys this archive publishes — the same checks as
 * `mailrepo verify` and the bundle's verify.py, which need nothing from us.
 */

export interface StepOutcome {
  step: VerifyStep;
  status: 'passed' | 'failed' | 'not-reached';
  detail?: string;
}

export interface VerifyOutcome {
  verified: boolean;
  steps: StepOutcome[];
  genTime?: string;
}

/** The verifier keys a customer compares bundles against: the anchor log's and their tenant's. */
export async function publishedKeys(db: Db, tenantId: string) {
  const rows = await db
    .selectFrom('ledger_logs')
    .select(['tenant_id', 'origin', 'signing_public_key'])
    .where((eb) => eb.or([eb('tenant_id', 'is', null), eb('tenant_id', '=', tenantId)]))
    .execute();
  const key = (r: (typeof rows)[number] | undefined) =>
    r && verifierKey({ name: r.origin, publicKey: r.signing_public_key });
  return {
    anchorKey: key(rows.find((r) => r.tenant_id === null)),
    tenantKey: key(rows.find((r) => r.tenant_id === tenantId)),
  };
}

export async function verifySteps(
  zip: Uint8Array,
  mail: Uint8Array,
  trust: { tenantKey?: string; anchorKey?: string; tsaRootPem?: string },
): Promise<VerifyOutcome> {
  try {
    const v = await verifyBundle(zip, mail, trust);
    const passed = new Map(v.report.map((line) => [line.split(':')[0]!, line]));
    return {
      verified: true,
      genTime: v.genTime.toISOString(),
      steps: VERIFY_STEPS.map((step) => ({
        step,
        status: 'passed',
        detail: passed.get(step)?.slice(step.length + 2),
      })),
    };
  } catch (e) {
    if (!(e instanceof BundleVerifyError)) throw e;
    const at = e.step === 'bundle' ? 0 : VERIFY_STEPS.indexOf(e.step);
    return {
      verified: false,
      steps: VERIFY_STEPS.map((step, i) => ({
        step,
        status: i < at ? 'passed' : i === at ? 'failed' : 'not-reached',
        ...(i === at ? { detail: e.message } : {}),
      })),
    };
  }
}
