import { Worker } from 'node:worker_threads';
import type { EmbeddedWorkerData } from './pglite-worker.ts';

/** Embedded PostgreSQL running on a worker thread, reachable over a Unix socket. */
export interface EmbeddedServer {
  /** Folder holding the socket; `pg` takes it as `host`. */
  socketDir: string;
  /** A gzipped copy of the whole database (used to make test templates). */
  dump(): Promise<Uint8Array>;
  close(): Promise<void>;
}

type Reply =
  | { type: 'ready'; socketDir: string }
  | { type: 'dumped'; bytes: Uint8Array }
  | { type: 'closed' }
  | { type: 'error'; message: string };

export async function startEmbedded(options: EmbeddedWorkerData): Promise<EmbeddedServer> {
  const worker = new Worker(new URL('./pglite-worker.ts', import.meta.url), { workerData: options });
  const next = <T extends Reply['type']>(type: T): Promise<Extract<Reply, { type: T }>> =>
    new Promise((resolve, reject) => {
      const onMessage = (reply: Reply) => {
        if (reply.type !== type && reply.type !== 'error') return;
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (reply.type === 'error') reject(new Error(`embedded database: ${reply.message}`));
        else resolve(reply as Extract<Reply, { type: T }>);
      };
      const onError = (error: Error) => {
        worker.off('message', onMessage);
        reject(error);
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
    });

  const { socketDir } = await next('ready');
  let closed: Promise<void> | undefined;
  return {
    socketDir,
    async dump() {
      const reply = next('dumped');
      worker.postMessage({ type: 'dump' });
      return (await reply).bytes;
    },
    close() {
      closed ??= (async () => {
        const reply = next('closed');
        worker.postMessage({ type: 'close' });
        await reply;
        await worker.terminate();
      })();
      return closed;
    },
  };
}
