import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.ts';
import type { Database } from '../../src/db/database.ts';
import { startParley, type Parley } from '../../src/runtime.ts';
import { freshDatabase } from './db.ts';

/** A whole Parley on a fresh database and a random port, as a provider or an agent would reach it. */
export interface TestParley extends Parley {
  config: Config;
  request(path: string, init?: RequestInit): Promise<Response>;
}

export interface TestParleyOptions {
  /** Run on this database instead of a fresh copy of the migrated template. */
  database?: Database;
  /** The startup banner's lines land here. */
  print?: (line: string) => void;
  /** The clock messaging windows are judged by. */
  now?: () => number;
}

export async function startTestParley(overrides: Partial<Config> = {}, options: TestParleyOptions = {}): Promise<TestParley> {
  const config: Config = {
    ...loadConfig({}, {}),
    port: 0,
    logLevel: 'silent',
    dataDir: mkdtempSync(join(tmpdir(), 'parley-test-')),
    secretKey: randomBytes(32).toString('base64'),
    shutdownTimeoutMs: 5000,
    ...overrides,
  };
  const database = options.database ?? (await freshDatabase());
  const parley = await startParley(config, { database, print: options.print, now: options.now });
  return Object.assign(parley, {
    config,
    request: (path: string, init?: RequestInit) => fetch(`${parley.url}${path}`, init),
  });
}
