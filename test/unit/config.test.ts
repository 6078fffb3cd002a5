import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, configVariables, loadConfig } from '../../lib/config';

const productionEnv = {
  NODE_ENV: 'production',
  DATA_DIR: '/var/lib/mailrepo',
  DATABASE_URL: 'postgres://app@db.internal:5432/mailrepo?sslmode=verify-full',
  TEMPORAL_ADDRESS: 'temporal.internal:7233',
  TEMPORAL_TLS: 'true',
  TEMPORAL_TLS_CERT_FILE: '/etc/mailrepo/temporal-client.pem',
  TEMPORAL_TLS_KEY_FILE: '/etc/mailrepo/temporal-client.key',
  TEMPORAL_CODEC_KEYS: `k2026:${Buffer.alloc(32, 7).toString('base64')}`,
  LEDGER_KEY_WRAP_KEY: Buffer.alloc(32, 9).toString('base64'),
  VAULT_KEY_WRAP_KEY: Buffer.alloc(32, 8).toString('base64'),
  S3_ENDPOINT: 'https://s3.internal',
  S3_ACCESS_KEY: 'mailrepo-prod',
  S3_SECRET_KEY: 'a-long-production-secret',
  TSA_URL: 'https://tsa.example.de/tsp',
  TSA_CA_FILE: '/etc/mailrepo/tsa-ca.pem',
  LMTP_TLS_CERT_FILE: '/etc/mailrepo/lmtp.crt',
  LMTP_TLS_KEY_FILE: '/etc/mailrepo/lmtp.key',
  LMTP_REQUIRE_TLS: 'true',
  JOURNAL_SMTP_REQUIRE_TLS: 'true',
  JOURNAL_DOMAIN: 'journal.archiv.example.de',
  WEB_BEHIND_TLS_PROXY: 'true',
};

describe('config', () => {
  it('works out of the box in development and says which dev defaults are in force', () => {
    const cfg = loadConfig({});
    expect(cfg.NODE_ENV).toBe('development');
    expect(cfg.TEMPORAL_NAMESPACE).toBe('mailrepo');
    expect(cfg.LMTP_PORT).toBe(2424);
    expect(cfg.devDefaultsInForce).toEqual(
      expect.arrayContaining(['TSA_URL', 'TEMPORAL_CODEC_KEYS', 'DATABASE_URL']),
    );
  });

  it('rejects invalid values with the variable name', () => {
    expect(() => loadConfig({ LMTP_PORT: 'seventy' })).toThrow(/LMTP_PORT/);
    expect(() => loadConfig({ TEMPORAL_TLS: 'maybe' })).toThrow(/TEMPORAL_TLS/);
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/DATABASE_URL/);
  });

  it('accepts a complete production configuration and turns the codec endpoint off', () => {
    const cfg = loadConfig(productionEnv);
    expect(cfg.devDefaultsInForce).toEqual([]);
    expect(cfg.CODEC_SERVER_ENABLED).toBe(false);
  });

  it.each([
    ['TSA_URL', undefined, /TSA_URL/],
    ['TSA_URL', 'http://127.0.0.1:3180/tsa', /dev TSA/],
    ['TEMPORAL_CODEC_KEYS', undefined, /TEMPORAL_CODEC_KEYS/],
    ['TEMPORAL_TLS', 'false', /TEMPORAL_TLS must be true/],
    ['DATABASE_URL', 'postgres://app@db.internal:5432/mailrepo', /sslmode/],
    ['S3_ENDPOINT', 'http://s3.internal', /S3_ENDPOINT must use https/],
    ['LMTP_TLS_CERT_FILE', undefined, /LMTP_TLS/],
    ['LMTP_REQUIRE_TLS', 'false', /LMTP_REQUIRE_TLS must be true/],
    ['WEB_BEHIND_TLS_PROXY', 'false', /portal needs/],
    ['S3_SECRET_KEY', undefined, /S3_SECRET_KEY/],
    ['LEDGER_KEY_WRAP_KEY', undefined, /LEDGER_KEY_WRAP_KEY/],
    ['TEMPORAL_TLS_CERT_FILE', undefined, /TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE/],
    ['DATABASE_URL', 'postgres://app@db.internal/mailrepo?sslmode=require', /verify-full/],
    [
      'VAULT_DATABASE_URL',
      'postgres://app@vault.internal/mailrepo_vault?sslmode=verify-ca',
      /VAULT_DATABASE_URL must set sslmode=verify-full/,
    ],
    ['VAULT_KEY_WRAP_KEY', undefined, /VAULT_KEY_WRAP_KEY/],
    ['JOURNAL_SMTP_REQUIRE_TLS', 'false', /JOURNAL_SMTP_REQUIRE_TLS must be true/],
    ['JOURNAL_DOMAIN', undefined, /JOURNAL_DOMAIN must name the journal domain/],
  ])('refuses production when %s is %s', (name, value, message) => {
    const env: Record<string, string | undefined> = { ...productionEnv, [name]: value };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('production without SMTP journaling needs neither its TLS switch nor its domain', () => {
    const env = { ...productionEnv, JOURNAL_SMTP_PORT: '0' } as Record<string, string | undefined>;
    delete env.JOURNAL_SMTP_REQUIRE_TLS;
    delete env.JOURNAL_DOMAIN;
    expect(loadConfig(env).JOURNAL_SMTP_PORT).toBe(0);
  });

  it('refuses the dev ledger wrap key even when set explicitly in production', () => {
    const dev = loadConfig({}).LEDGER_KEY_WRAP_KEY;
    expect(() => loadConfig({ ...productionEnv, LEDGER_KEY_WRAP_KEY: dev })).toThrow(
      /LEDGER_KEY_WRAP_KEY is the dev key/,
    );
  });

  it('refuses the dev vault wrap key even when set explicitly in production', () => {
    const dev = loadConfig({}).VAULT_KEY_WRAP_KEY;
    expect(() => loadConfig({ ...productionEnv, VAULT_KEY_WRAP_KEY: dev })).toThrow(
      /VAULT_KEY_WRAP_KEY is the dev key/,
    );
  });

  it('refuses the dev codec key even when set explicitly in production', () => {
    const dev = loadConfig({}).TEMPORAL_CODEC_KEYS;
    expect(() => loadConfig({ ...productionEnv, TEMPORAL_CODEC_KEYS: dev })).toThrow(/dev key/);
  });

  it('documents every variable in .env.example', () => {
    const example = readFileSync(path.resolve(__dirname, '../../.env.example'), 'utf8');
    const missing = configVariables.filter(
      (name) => !new RegExp(`^#? ?${name}=`, 'm').test(example),
    );
    expect(missing).toEqual([]);
  });
});
