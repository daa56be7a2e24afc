import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { prepareEmbeddedTemplate, withDatabase } from './template.ts';

/**
 * A fresh database for one test: a copy of the migrated template on embedded PostgreSQL (the
 * default) or, when TEST_DATABASE_URL is set, a new PostgreSQL database dropped on close.
 * `migrated: false` gives an empty database (for migration tests).
 */
export const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

export interface TestDatabase extends Database {
  /** PostgreSQL only: the URL of this test's database (to open more connections). */
  url?: string;
}

export async function freshDatabase(options: { migrated?: boolean; poolSize?: number } = {}): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const loadFrom = migrated ? process.env.PARLEY_TEST_TEMPLATE ?? (await prepareEmbeddedTemplate()) : undefined;
    return openDatabase({ loadFrom });
  }
  const run = process.env.PARLEY_TEST_RUN ?? 'adhoc';
  const name = `parley_t_${run}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const template = migrated ? process.env.PARLEY_TEST_TEMPLATE : undefined;
    if (migrated && !template) throw new Error('run the tests with npm test (it prepares the migrated template database)');
    await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const database = await openDatabase({ url, poolSize: options.poolSize ?? 5 });
  const close = database.close;
  return Object.assign(database, {
    url,
    async close() {
      await close();
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => dropper.end());
    },
  });
}
