/**
 * Bad input from a person, refused before it reaches the database. `code` names the message the
 * user sees — a key of the portal's dictionaries (web/app/i18n), so the German UI never shows an
 * English sentence — and `params` fill its placeholders. `field` names the form field at fault.
 * Domain-specific refusals (retention, holds, queries, imports, invitations, roles) subclass it,
 * so callers can still tell them apart by name.
 */
const BRAND = Symbol.for('mailrepo.InputError');

export class InputError extends Error {
  override name = 'InputError';
  readonly [BRAND] = true;
  constructor(
    readonly code: string,
    readonly params: Record<string, string | number> = {},
    readonly field?: string,
  ) {
    super(code);
  }
}

/**
 * By brand, not `instanceof`: the portal's route bundle carries its own copy of this module, while
 * the domain code it calls is loaded by the server process.
 */
export const isInputError = (e: unknown): e is InputError =>
  typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A row id as PostgreSQL's uuid type accepts it; anything else is never any row's id. */
export const isUuid = (v: unknown): v is string => typeof v === 'string' && UUID.test(v);
