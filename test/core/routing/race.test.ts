import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { dispatchQueue } from '../../../src/core/routing/dispatch.ts';
import { openDatabase } from '../../../src/db/database.ts';
import { freshDatabase, onPostgres } from '../../helpers/db.ts';
import { seedRouting } from '../../../bench/routing-seed.ts';

describe('exactly once', () => {
  it('cycles racing on several instances offer each conversation to one agent and never exceed capacity', { skip: onPostgres ? false : 'embedded PostgreSQL is one connection in one process: there is nothing to race' }, async () => {
    const main = await freshDatabase();
    const others = await Promise.all([1, 2, 3].map(() => openDatabase({ url: (main as { url?: string }).url!, poolSize: 4 })));
    try {
      const { queueId } = await seedRouting(main.db, { agents: 20, conversations: 200, capacity: 100, units: 30 });
      const all = [main, ...others];
      // four instances, two cycles each, all on the same queue at once
      await Promise.all(all.flatMap((d) => [dispatchQueue(d.db, d.notifier, queueId), dispatchQueue(d.db, d.notifier, queueId)]));
      const doubled = await sql<{ n: number }>`SELECT count(*)::int AS n FROM (SELECT conversation_id FROM offers WHERE state = 'pending' GROUP BY conversation_id HAVING count(*) > 1) d`.execute(main.db);
      assert.equal(doubled.rows[0]!.n, 0);
      const over = await main.db.selectFrom('agents').select('user_id').where(sql<boolean>`used_capacity > capacity`).execute();
      assert.deepEqual(over, []);
      const offers = await main.db.selectFrom('offers').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
      // 20 agents × 3 conversations of 30 units each fit in 100
      assert.equal(offers.n, 60);
      const held = await main.db.selectFrom('agents').select(sql<number>`sum(used_capacity)::int`.as('n')).executeTakeFirstOrThrow();
      assert.equal(held.n, 60 * 30);
    } finally {
      for (const d of others) await d.close();
      await main.close();
    }
  });
});
