/** The integrityCheck workflow's input (workflows/integrity-check.ts). */
export interface IntegrityCheckInput {
  /** One tenant (started from the portal); all tenants when absent (the daily schedule). */
  tenantId?: string;
  trigger: 'schedule' | 'manual';
  /** A sweep continued as new: the last tenant done and the totals so far. */
  after?: string;
  sum?: IntegrityCheckSummary;
}

export interface IntegrityCheckSummary {
  tenants: number;
  objectsChecked: number;
  failures: number;
  ledgerProblems: number;
  auditProblems: number;
}
