import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { freshDatabase, onPostgres } from '../helpers/db.ts';

function waitFor(received: string[], count: number, ms = 3000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (received.length >= count) return resolve();
      if (Date.now() - start > ms) return reject(new Error(`only ${received.length} of ${count} notifications arrived`));
      setTimeout(check, 5);
    };
    check();
  });
}

test('a notification sent in a transaction arrives after the commit, and not at all after a rollback', async () => {
  const database = await freshDatabase();
  try {
    const received: string[] = [];
    const unlisten = await database.notifier.listen('parley_test', (payload) => received.push(payload));
    await database.db.transaction().execute(async (trx) => {
      await database.notifier.notify(trx, 'parley_test', 'in-transaction');
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(received, [], 'nothing before the commit');
    });
    await waitFor(received, 1);
    await database.db.transaction().execute(async (trx) => {
      await database.notifier.notify(trx, 'parley_test', 'rolled-back');
      throw new Error('abort');
    }).catch(() => undefined);
    await database.notifier.notify(database.db, 'parley_test', 'after');
    await waitFor(received, 2);
    assert.deepEqual(received, ['in-transaction', 'after']);
    await unlisten();
    await database.notifier.notify(database.db, 'parley_test', 'unheard');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(received.length, 2);
  } finally {
    await database.close();
  }
});

test('LISTEN/NOTIFY crosses connections: another client (another instance) hears what this one sends', { skip: !onPostgres && 'embedded PostgreSQL is one session in one process' }, async () => {
  const database = await freshDatabase();
  const other = new pg.Client({ connectionString: database.url });
  await other.connect();
  try {
    const heardByOther: string[] = [];
    other.on('notification', (n) => heardByOther.push(n.payload ?? ''));
    await other.query('LISTEN parley_cross');
    const heardByUs: string[] = [];
    await database.notifier.listen('parley_cross', (p) => heardByUs.push(p));
    await database.notifier.notify(database.db, 'parley_cross', 'from-us');
    await other.query(`SELECT pg_notify('parley_cross', 'from-other')`);
    await waitFor(heardByOther, 2);
    await waitFor(heardByUs, 2);
    assert.deepEqual(heardByOther.sort(), ['from-other', 'from-us']);
    assert.deepEqual(heardByUs.sort(), ['from-other', 'from-us']);
  } finally {
    await other.end();
    await database.close();
  }
});
