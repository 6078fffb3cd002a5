import pg from 'pg';

/**
 * The PostgreSQL roles mailrepo runs as (issue 17 §7, docs/deploy.md "Database roles"). Nothing
 * the product runs is a superuser or may bypass row-level security:
 *
 * - `mailrepo_owner` (login, for migrations only) owns the schema;
 * - `mailrepo_service` (login) is what the portal, LMTP and workers connect as: a member of
 *   `mailrepo_app`, which every tenant transaction switches to (SET LOCAL ROLE, RLS confines it to
 *   `app.tenant_id`), and of `mailrepo_platform`, which holds the few rights the system needs
 *   outside any tenant (login throttle, the operator's ledger of hashes, operator credentials);
 * - `mailrepo_definer` (no login) owns the SECURITY DEFINER lookups that must cross tenants
 *   before one is known, with SELECT on exactly the columns they read;
 * - `mailrepo_audit_owner` (no login) owns the append-only audit tables.
 */
export const ROLES = {
  owner: 'mailrepo_owner',
  service: 'mailrepo_service',
  app: 'mailrepo_app',
  platform: 'mailrepo_platform',
  definer: 'mailrepo_definer',
  auditOwner: 'mailrepo_audit_owner',
} as const;

const NOLOGIN = [ROLES.app, ROLES.platform, ROLES.definer, ROLES.auditOwner] as const;
/** Attributes re-asserted on every provisioning run, so a role someone widened is narrowed again. */
const LOGIN_ATTRS = 'LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION INHERIT';

/** `url` with its user (and password) replaced: how a stack hands each process its role. */
export function urlAs(url: string, role: string, password?: string): string {
  const u = new URL(url);
  u.username = role;
  u.password = password ?? '';
  return u.toString();
}

/** Password that development stacks give the login roles (an embedded server checks passwords). */
export const DEV_ROLE_PASSWORD = 'mailrepo-dev-only';

async function onAdmin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const u = new URL(adminUrl);
  u.pathname = '/postgres';
  const client = new pg.Client({ connectionString: u.toString() });
  await client.connect();
  try {
    // Roles are cluster-wide: parallel stacks provisioning at once must not race on CREATE ROLE.
    await client.query(`SELECT pg_advisory_lock(hashtext('mailrepo.provision'))`);
    return await fn(client);
  } finally {
    await client.end();
  }
}

const ident = (name: string): string => {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`unsupported name: ${name}`);
  return `"${name}"`;
};

/**
 * Creates (or narrows) the roles and the given databases, owned by `mailrepo_owner`, as an
 * administrator (superuser or CREATEROLE + CREATEDB). Idempotent. Objects that an earlier
 * version created as the administrator are handed to `mailrepo_owner`, so migrations can go on
 * as that role.
 */
export async function provisionDatabases(
  adminUrl: string,
  databaseUrls: string[],
  passwords: { owner?: string; service?: string } = {},
): Promise<void> {
  await onAdmin(adminUrl, async (c) => {
    for (const role of NOLOGIN)
      if (!(await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount)
        await c.query(`CREATE ROLE ${role} NOLOGIN`);
    for (const [role, password] of [
      [ROLES.owner, passwords.owner],
      [ROLES.service, passwords.service],
    ] as const) {
      if (!(await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount)
        await c.query(`CREATE ROLE ${role} ${LOGIN_ATTRS}`);
      await c.query(`ALTER ROLE ${role} ${LOGIN_ATTRS}`);
      if (password !== undefined)
        await c.query(`ALTER ROLE ${role} PASSWORD ${pg.escapeLiteral(password)}`);
    }
    for (const role of NOLOGIN)
      await c.query(`ALTER ROLE ${role} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE`);
    // The owner hands objects to the no-login owners (ALTER … OWNER TO needs membership).
    await c.query(`GRANT ${NOLOGIN.join(', ')} TO ${ROLES.owner}`);
    await c.query(`GRANT ${ROLES.app}, ${ROLES.platform} TO ${ROLES.service}`);

    for (const url of databaseUrls) {
      const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
      const exists = (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]))
        .rowCount;
      if (!exists) {
        try {
          await c.query(`CREATE DATABASE ${ident(name)} OWNER ${ROLES.owner}`);
        } catch (err) {
          if ((err as { code?: string }).code !== '42P04') throw err;
        }
      }
      await c.query(`ALTER DATABASE ${ident(name)} OWNER TO ${ROLES.owner}`);
      await c.query(`REVOKE ALL ON DATABASE ${ident(name)} FROM PUBLIC`);
      await c.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${ident(name)} TO ${ROLES.service}`);
      await adoptSchema(adminUrl, name);
    }
  });
}

/** Inside database `name`: public schema and every object in it owned by mailrepo roles. */
async function adoptSchema(adminUrl: string, name: string): Promise<void> {
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    await c.query(`ALTER SCHEMA public OWNER TO ${ROLES.owner}`);
    await c.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    // New owners of tables and functions need CREATE on their schema.
    await c.query(`GRANT CREATE, USAGE ON SCHEMA public TO ${ROLES.definer}, ${ROLES.auditOwner}`);
    const mine = `(${Object.values(ROLES)
      .map((r) => pg.escapeLiteral(r))
      .join(', ')})`;
    const tables = await c.query<{ t: string }>(
      `SELECT format('%I', c.relname) AS t FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
          AND pg_get_userbyid(c.relowner) NOT IN ${mine}`,
    );
    for (const { t } of tables.rows) await c.query(`ALTER TABLE ${t} OWNER TO ${ROLES.owner}`);
    const fns = await c.query<{ f: string }>(
      `SELECT p.oid::regprocedure::text AS f FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) NOT IN ${mine}`,
    );
    for (const { f } of fns.rows) await c.query(`ALTER ROUTINE ${f} OWNER TO ${ROLES.owner}`);
  } finally {
    await c.end();
  }
}
