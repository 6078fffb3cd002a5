import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { zeroize } from '../crypto/bytes';
import { unwrap, wrap } from '../crypto/sealed-box';
import { bind } from '../crypto/bindings';

/**
 * The shred-key vault (DESIGN §4, crypto-shredding): one random key per epoch, kept in a database
 * of its own, outside the archive database and the object store. Every epoch private key is
 * wrapped under its epoch's shred key on top of being sealed to the tenant key, so deleting the
 * shred key makes the epoch unreadable even for someone holding a user's password and a copy of the
 * archive database and the object store taken before the shred. Only backups of this vault can
 * bring a shredded epoch back; docs/retention.md says how long they may be kept.
 *
 * Shred keys are stored wrapped under VAULT_KEY_WRAP_KEY (a server secret, like the ledger's), so
 * a copy of the vault alone is useless too.
 */

export interface ShredKeyVaultOptions {
  url: string;
  wrapKey: Buffer;
}

export class ShredKeyVault {
  private pool?: pg.Pool;
  private schemaReady?: Promise<void>;

  constructor(private readonly options: ShredKeyVaultOptions) {
    if (options.wrapKey.length !== 32) throw new Error('VAULT_KEY_WRAP_KEY must be 32 bytes');
  }

  get url(): string {
    return this.options.url;
  }

  private db(): pg.Pool {
    if (!this.pool) {
      this.pool = new pg.Pool({
        connectionString: this.options.url,
        max: 4,
        connectionTimeoutMillis: 15_000,
      });
      this.pool.on('error', (err) =>
        process.emitWarning(`shred-key vault idle connection error: ${err.message}`),
      );
      // As for the archive database (lib/db): a lost checked-out connection must not crash.
      this.pool.on('connect', (client) =>
        client.on('error', (err) =>
          process.emitWarning(`shred-key vault connection lost: ${err.message}`),
        ),
      );
    }
    return this.pool;
  }

  /** Creates the vault's one table (idempotent; the migration step and tests call it). */
  ensureSchema(): Promise<void> {
    this.schemaReady ??= this.db()
      .query(
        `CREATE TABLE IF NOT EXISTS epoch_shred_keys (
           epoch_id uuid PRIMARY KEY,
           tenant_id uuid NOT NULL,
           wrapped_key bytea NOT NULL,
           created_at timestamptz NOT NULL DEFAULT now()
         );
         -- The service role (lib/db/roles.ts) works here outside any tenant: what it needs, no more.
         DO $$ BEGIN
           IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mailrepo_platform') THEN
             GRANT SELECT, INSERT, DELETE ON epoch_shred_keys TO mailrepo_platform;
           END IF;
         END $$`,
      )
      .then(() => undefined)
      .catch((e: unknown) => {
        this.schemaReady = undefined;
        throw e;
      });
    return this.schemaReady;
  }

  /** A new epoch's shred key; an existing one is returned as it is (retries converge). */
  async create(tenantId: string, epochId: string): Promise<Buffer> {
    const key = randomBytes(32);
    try {
      await this.db().query(
        `INSERT INTO epoch_shred_keys (epoch_id, tenant_id, wrapped_key) VALUES ($1, $2, $3)
         ON CONFLICT (epoch_id) DO NOTHING`,
        [epochId, tenantId, wrap(this.options.wrapKey, bind.shredKey(tenantId, epochId), key)],
      );
    } finally {
      zeroize(key);
    }
    const stored = await this.get(tenantId, epochId);
    if (!stored) throw new Error('shred key vanished right after it was created');
    return stored;
  }

  /** The epoch's shred key, or undefined once it was destroyed. */
  async get(tenantId: string, epochId: string): Promise<Buffer | undefined> {
    const { rows } = await this.db().query<{ wrapped_key: Buffer }>(
      'SELECT wrapped_key FROM epoch_shred_keys WHERE epoch_id = $1 AND tenant_id = $2',
      [epochId, tenantId],
    );
    const row = rows[0];
    return row && unwrap(this.options.wrapKey, bind.shredKey(tenantId, epochId), row.wrapped_key);
  }

  /** Destroys the epoch's shred key: from now on its private key opens for nobody. Idempotent. */
  async destroy(tenantId: string, epochId: string): Promise<void> {
    await this.db().query('DELETE FROM epoch_shred_keys WHERE epoch_id = $1 AND tenant_id = $2', [
      epochId,
      tenantId,
    ]);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.schemaReady = undefined;
    await pool?.end();
  }
}

/** The vault database next to an archive database: same server, name + `_vault`. */
export function defaultVaultUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `${url.pathname}_vault`;
  return url.toString();
}
