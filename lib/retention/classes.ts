import { randomUUID } from 'node:crypto';
import type { Db } from '../db';
import type { RetentionUnit } from '../db/schema';
import { withTenant, type TenantTx } from '../db/tenant-scope';
import { comparePeriods, DEFAULT_CLASS, DEFAULT_PERIOD, UNITS, type Period } from './periods';
import { auditSettingChange } from '../auth/tenant-settings';
import { InputError, isUuid } from '../input/input-error';
import { normalizeAddressOrDomain } from '../input/address';

/**
 * Retention classes and the address rules that put mail into them (issue 9 §2). Every tenant has
 * the class `default` (ten years unless changed); a rule names an address (`hr@firma.de`) or a
 * whole domain (`@firma.de`). A mail matching several rules gets the longest of their periods:
 * a rule can make mail stay longer, never leave earlier than another rule says.
 */

export interface RetentionClass extends Period {
  name: string;
  /** Mail in this class would be deleted before the legal minimum of six years. */
  belowLegalMinimum: boolean;
}

export interface RetentionRule {
  id: string;
  pattern: string;
  className: string;
}

export class RetentionInputError extends InputError {
  override name = 'RetentionInputError';
}

const NAME = /^[a-z0-9-]{1,40}$/;

export async function listClasses(tx: TenantTx): Promise<RetentionClass[]> {
  const rows = await tx
    .selectFrom('retention_classes')
    .select(['name', 'keep_amount', 'keep_unit'])
    .orderBy('name')
    .execute();
  const classes = rows.map((r) => ({ name: r.name, amount: r.keep_amount, unit: r.keep_unit }));
  if (!classes.some((c) => c.name === DEFAULT_CLASS))
    classes.unshift({ name: DEFAULT_CLASS, ...DEFAULT_PERIOD });
  return classes.map((c) => ({
    ...c,
    belowLegalMinimum: comparePeriods(c, { amount: 6, unit: 'years' }) < 0,
  }));
}

export async function listRules(tx: TenantTx): Promise<RetentionRule[]> {
  const rows = await tx
    .selectFrom('retention_rules')
    .select(['id', 'pattern', 'class_name'])
    .orderBy('pattern')
    .execute();
  return rows.map((r) => ({ id: r.id, pattern: r.pattern, className: r.class_name }));
}

const matches = (pattern: string, address: string) =>
  pattern.startsWith('@') ? address.endsWith(pattern) : address === pattern;

/** The class of a mail with these (lower-case) addresses: the longest-keeping matching rule's. */
export async function classForAddresses(tx: TenantTx, addresses: string[]): Promise<string> {
  const rules = await listRules(tx);
  const hits = rules.filter((r) => addresses.some((a) => matches(r.pattern, a)));
  if (!hits.length) return DEFAULT_CLASS;
  const classes = await listClasses(tx);
  const period = (name: string) => classes.find((c) => c.name === name) ?? DEFAULT_PERIOD;
  return hits
    .map((h) => h.className)
    .reduce((best, c) => (comparePeriods(period(c), period(best)) > 0 ? c : best));
}

type Actor = { tenantId: string; userId: string; ip?: string };

const audit = auditSettingChange;

/** Creates a class or changes its period (audited as a setting change). */
export async function saveClass(
  db: Db,
  actor: Actor,
  input: { name: string; amount: number; unit: string },
): Promise<void> {
  const name = input.name.trim().toLowerCase();
  if (!NAME.test(name)) throw new RetentionInputError('retention.error.name', {}, 'name');
  if (!Number.isInteger(input.amount) || input.amount < 1 || input.amount > 100_000)
    throw new RetentionInputError('retention.error.amount', {}, 'amount');
  if (!UNITS.includes(input.unit as RetentionUnit))
    throw new RetentionInputError('retention.error.unit', {}, 'unit');
  const unit = input.unit as RetentionUnit;
  await withTenant(db, actor.tenantId, async (tx) => {
    const before = (await listClasses(tx)).find((c) => c.name === name);
    await tx
      .insertInto('retention_classes')
      .values({ tenant_id: actor.tenantId, name, keep_amount: input.amount, keep_unit: unit })
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'name'])
          .doUpdateSet({ keep_amount: input.amount, keep_unit: unit }),
      )
      .execute();
    await audit(
      tx,
      actor,
      `retention.class.${name}`,
      before ? `${before.amount} ${before.unit}` : null,
      `${input.amount} ${unit}`,
    );
  });
}

/** Adds a rule sending mail of an address or domain to a class. */
export async function addRule(
  db: Db,
  actor: Actor,
  input: { pattern: string; className: string },
): Promise<void> {
  const pattern = normalizeAddressOrDomain(input.pattern);
  if (!pattern) throw new RetentionInputError('retention.error.pattern', {}, 'pattern');
  await withTenant(db, actor.tenantId, async (tx) => {
    const classes = await listClasses(tx);
    if (!classes.some((c) => c.name === input.className))
      throw new RetentionInputError('retention.error.noClass', {}, 'class');
    // The implicit default class gets a row, so the rule's foreign key has something to point at.
    if (input.className === DEFAULT_CLASS)
      await tx
        .insertInto('retention_classes')
        .values({
          tenant_id: actor.tenantId,
          name: DEFAULT_CLASS,
          keep_amount: DEFAULT_PERIOD.amount,
          keep_unit: DEFAULT_PERIOD.unit,
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'name']).doNothing())
        .execute();
    const r = await tx
      .insertInto('retention_rules')
      .values({
        id: randomUUID(),
        tenant_id: actor.tenantId,
        pattern,
        class_name: input.className,
      })
      .onConflict((oc) => oc.columns(['tenant_id', 'pattern']).doNothing())
      .executeTakeFirst();
    if (!Number(r.numInsertedOrUpdatedRows ?? 0))
      throw new RetentionInputError('retention.error.ruleExists', {}, 'pattern');
    await audit(tx, actor, `retention.rule.${pattern}`, null, input.className);
  });
}

export async function removeRule(db: Db, actor: Actor, ruleId: string): Promise<void> {
  if (!isUuid(ruleId)) return;
  await withTenant(db, actor.tenantId, async (tx) => {
    const rule = await tx
      .deleteFrom('retention_rules')
      .where('id', '=', ruleId)
      .returning(['pattern', 'class_name'])
      .executeTakeFirst();
    if (rule) await audit(tx, actor, `retention.rule.${rule.pattern}`, rule.class_name, null);
  });
}
