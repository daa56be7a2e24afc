import pg from 'pg';
import { sql, type Kysely } from 'kysely';

/**
 * Cross-instance notifications over PostgreSQL LISTEN/NOTIFY. A notification sent inside a
 * transaction is delivered when it commits, to every instance listening on the channel.
 */
export type NotificationHandler = (payload: string) => void;

export interface Notifier {
  listen(channel: string, handler: NotificationHandler): Promise<() => Promise<void>>;
  /** Sends through the given executor, so a notification inside a transaction waits for its commit. */
  notify(executor: Kysely<any>, channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

interface Subscriber {
  query(text: string): Promise<unknown>;
}

function quoteIdent(channel: string): string {
  if (!/^[a-z_][a-z0-9_:.-]{0,62}$/i.test(channel)) throw new Error(`invalid notification channel name: ${channel}`);
  return `"${channel}"`;
}

class ChannelRegistry {
  handlers = new Map<string, Set<NotificationHandler>>();

  dispatch = (message: pg.Notification): void => {
    for (const handler of this.handlers.get(message.channel) ?? []) {
      try {
        handler(message.payload ?? '');
      } catch {
        // one failing listener never stops the others
      }
    }
  };

  async add(subscriber: Subscriber, channel: string, handler: NotificationHandler): Promise<() => Promise<void>> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await subscriber.query(`LISTEN ${quoteIdent(channel)}`);
    }
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0 && this.handlers.get(channel) === set) {
        this.handlers.delete(channel);
        await subscriber.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => undefined);
      }
    };
  }
}

export async function notify(executor: Kysely<any>, channel: string, payload: string): Promise<void> {
  await sql`SELECT pg_notify(${channel}, ${payload})`.execute(executor);
}

/**
 * PostgreSQL: a dedicated connection holds the LISTENs; it reconnects after a failure and
 * listens again (missed notifications are covered by the consumers' polling).
 */
export function postgresNotifier(config: pg.ClientConfig, onError: (error: Error) => void): Notifier {
  const registry = new ChannelRegistry();
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let closed = false;

  const connect = (): Promise<pg.Client> => {
    connecting ??= (async () => {
      const next = new pg.Client(config);
      next.on('notification', registry.dispatch);
      next.on('error', (error) => {
        onError(error);
        if (client === next) client = undefined;
        connecting = undefined;
        if (!closed) setTimeout(() => void connect().catch(onError), 500).unref();
      });
      await next.connect();
      for (const channel of registry.handlers.keys()) await next.query(`LISTEN ${quoteIdent(channel)}`);
      client = next;
      return next;
    })();
    return connecting;
  };

  const subscriber: Subscriber = { query: async (text) => (await connect()).query(text) };
  return {
    listen: (channel, handler) => registry.add(subscriber, channel, handler),
    notify,
    async close() {
      closed = true;
      await client?.end().catch(() => undefined);
    },
  };
}

/**
 * Embedded PostgreSQL is one database session shared by every connection: a LISTEN made through
 * the pool holds for the session, and notifications reach whichever connection runs the
 * committing statement, so every pooled connection forwards what it receives.
 */
export function embeddedNotifier(pool: pg.Pool): Notifier {
  const registry = new ChannelRegistry();
  pool.on('connect', (client) => client.on('notification', registry.dispatch));
  return {
    listen: (channel, handler) => registry.add(pool, channel, handler),
    notify,
    async close() {},
  };
}
