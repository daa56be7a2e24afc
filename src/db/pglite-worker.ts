import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * Runs embedded PostgreSQL on its own thread and serves it over the PostgreSQL protocol on a
 * private Unix socket, so the application talks to it with the same driver as to a real server
 * and a slow query never freezes the event loop that answers webhooks.
 */
export interface EmbeddedWorkerData {
  /** Folder of the database files, or 'memory://' for a throwaway database. */
  dataDir: string;
  /** A dumped database (tar.gz) to start from, e.g. a pre-migrated template for tests. */
  loadFrom?: string;
}

type Command = { type: 'dump' } | { type: 'close' };

const port = parentPort!;
const options = workerData as EmbeddedWorkerData;

async function main(): Promise<void> {
  const loadDataDir = options.loadFrom ? new Blob([readFileSync(options.loadFrom)]) : undefined;
  const db = await PGlite.create({ dataDir: options.dataDir, loadDataDir });
  const socketDir = mkdtempSync(join(tmpdir(), 'parley-pg-'));
  // One connection: the socket multiplexer interleaves protocol messages of concurrent
  // connections, which is unsafe for the extended query protocol.
  const server = new PGLiteSocketServer({ db, path: join(socketDir, '.s.PGSQL.5432'), maxConnections: 1 });
  await server.start();
  port.postMessage({ type: 'ready', socketDir });

  port.on('message', async (command: Command) => {
    try {
      if (command.type === 'dump') {
        const file = await db.dumpDataDir('gzip');
        const bytes = new Uint8Array(await file.arrayBuffer());
        port.postMessage({ type: 'dumped', bytes }, [bytes.buffer]);
      } else if (command.type === 'close') {
        await server.stop();
        await db.close();
        rmSync(socketDir, { recursive: true, force: true });
        port.postMessage({ type: 'closed' });
      }
    } catch (error) {
      port.postMessage({ type: 'error', message: (error as Error).message });
    }
  });
}

main().catch((error: Error) => port.postMessage({ type: 'error', message: error.message }));
