import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { startEmbedded, type EmbeddedServer } from './embedded.ts';
import { lockDataFolder, type FolderLock } from './lock.ts';
import { embeddedNotifier, postgresNotifier, type Notifier } from './notifier.ts';
import { typeParsers } from './pg-types.ts';
import type { DB } from './schema.ts';

export type DatabaseKind = 'embedded' | 'postgres';

export interface Database {
  kind: DatabaseKind;
  db: Kysely<DB>;
  notifier: Notifier;
  /** A short round trip: throws when the database cannot be reached. */
  ping(): Promise<void>;
  /** Embedded only: a gzipped copy of the whole database. */
  dump?(): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL URL; without it, embedded PostgreSQL is used. */
  url?: string;
  /** Embedded: the data folder (locked while open). Absent means an in-memory database. */
  dataDir?: string;
  /** Embedded: start from this dumped database (tar.gz) instead of an empty one. */
  loadFrom?: string;
  /** PostgreSQL connection pool size. */
  poolSize?: number;
  onError?: (error: Error) => void;
}

function wrap(kind: DatabaseKind, pool: pg.Pool, notifier: Notifier, cleanup: () => Promise<void>, dump?: () => Promise<Uint8Array>): Database {
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  let closing: Promise<void> | undefined;
  return {
    kind,
    db,
    notifier,
    dump,
    async ping() {
      await sql`SELECT 1`.execute(db);
    },
    close() {
      closing ??= (async () => {
        await notifier.close();
        await db.destroy();
        await cleanup();
      })();
      return closing;
    },
  };
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  const onError = options.onError ?? (() => undefined);
  if (options.url) {
    const config: pg.PoolConfig = { connectionString: options.url, types: typeParsers, application_name: 'parley' };
    const pool = new pg.Pool({ ...config, max: options.poolSize ?? 10 });
    pool.on('error', onError);
    const db = wrap('postgres', pool, postgresNotifier(config, onError), async () => undefined);
    try {
      await db.ping();
    } catch (error) {
      await db.close();
      throw new Error(`cannot reach PostgreSQL: ${(error as Error).message}`);
    }
    return db;
  }

  let lock: FolderLock | undefined;
  let server: EmbeddedServer | undefined;
  try {
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true });
      lock = lockDataFolder(options.dataDir);
    }
    server = await startEmbedded({
      dataDir: options.dataDir ? join(options.dataDir, 'pglite') : 'memory://',
      loadFrom: options.loadFrom,
    });
  } catch (error) {
    lock?.release();
    throw error;
  }
  // A single connection: embedded PostgreSQL is one session.
  const pool = new pg.Pool({ host: server.socketDir, port: 5432, user: 'postgres', database: 'postgres', types: typeParsers, max: 1, idleTimeoutMillis: 0 });
  pool.on('error', onError);
  const embedded = server;
  return wrap('embedded', pool, embeddedNotifier(pool), async () => {
    await embedded.close();
    lock?.release();
  }, () => embedded.dump());
}
