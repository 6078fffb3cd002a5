/**
 * Every `patched()` id in use (docs/decisions/0016), with the release that introduced it. A patch's
 * old branch is removed (`deprecatePatch`, then the id) once no run that could take it exists.
 */

/**
 * 2026-11 (issue 18 §4): the daily sweeps over all tenants (integrityCheck, retentionSweep) walk
 * them a page at a time and continue-as-new after each page, so their histories stay bounded
 * however many tenants there are. Runs started before it hold every tenant in one history.
 */
export const PAGED_TENANT_SWEEPS = '2026-11-paged-tenant-sweeps';

/** Tenants per run of a paged sweep: ~6 history events each, far below Temporal's limits. */
export const TENANTS_PER_SWEEP_RUN = 100;
