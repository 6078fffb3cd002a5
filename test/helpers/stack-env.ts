import { loadConfig, type Config } from '../../lib/config';

/** The integration stack's configuration: the global setup exported its ports into process.env. */
export function stackConfig(overrides: Record<string, string> = {}): Config {
  if (!process.env.TEMPORAL_ADDRESS)
    throw new Error('integration stack not started (run through jest)');
  return loadConfig({ ...process.env, ...overrides });
}
