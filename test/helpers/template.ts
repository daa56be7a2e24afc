import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';

/**
 * A migrated database that every test file copies, so no file pays for initdb and migrations:
 * a dumped embedded database in .cache/, or a template database on PostgreSQL.
 */
const root = new URL('../../', import.meta.url).pathname;

export function migrationsHash(): string {
  const dir = join(root, 'src/db/migrations');
  const hash = createHash('sha256');
  for (const file of readdirSync(dir).sort()) hash.update(file).update(readFileSync(join(dir, file)));
  return hash.digest('hex').slice(0, 12);
}

export async function prepareEmbeddedTemplate(): Promise<string> {
  const dir = join(root, '.cache');
  const path = join(dir, `pglite-template-${migrationsHash()}.tar.gz`);
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const database = await openDatabase({});
  try {
    await migrateToLatest(database.db);
    const bytes = await database.dump!();
    writeFileSync(`${path}.tmp`, bytes);
    renameSync(`${path}.tmp`, path);
  } finally {
    await database.close();
  }
  return path;
}

export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function preparePostgresTemplate(adminUrl: string, run: string): Promise<string> {
  const name = `parley_tpl_${run}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const database = await openDatabase({ url: withDatabase(adminUrl, name), poolSize: 2 });
  try {
    await migrateToLatest(database.db);
  } finally {
    await database.close();
  }
  return name;
}

/** Drops the template and every test database of one run. */
export async function dropRun(adminUrl: string, run: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`parley_%${run}%`]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
