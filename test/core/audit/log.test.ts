import { test } from 'node:test';
import assert from 'node:assert/strict';
import { audit, listAudit } from '../../../src/core/audit/log.ts';
import { freshDatabase } from '../../helpers/db.ts';

test('audit() keeps what changed and redacts any value whose key names a secret', async () => {
  const database = await freshDatabase();
  try {
    await audit(database.db, {
      actor: { userId: null, label: 'command line' },
      action: 'channel.updated',
      target: { type: 'channel', id: 7 },
      details: { name: 'Support page', appSecret: 's3cr3t', nested: { accessToken: 'EAAB...', tokenName: 'ok' }, password: 'hunter2hunter2', secretChanged: true },
    });
    const { entries } = await listAudit(database.db, {});
    assert.deepEqual(entries[0]!.details, { name: 'Support page', appSecret: '[redacted]', nested: { accessToken: '[redacted]', tokenName: 'ok' }, password: '[redacted]', secretChanged: true });
    assert.deepEqual(entries[0]!.target, { type: 'channel', id: '7' });
    assert.equal(entries[0]!.actor.userId, null);
  } finally {
    await database.close();
  }
});
