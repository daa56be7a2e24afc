import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SYSTEM_ACTORS } from '../../../src/core/audit/log.ts';
import { createChannelDirectory } from '../../../src/core/channels/directory.ts';
import { createMessagingAccounts } from '../../../src/core/channels/messaging-accounts.ts';
import { createWebhookStats } from '../../../src/core/channels/webhook-stats.ts';
import { startSandboxedParley } from '../../helpers/sandbox.ts';

test('a provider that answers slowly does not hold the save: the channel is pending, then gets its status', async () => {
  const env = await startSandboxedParley();
  try {
    const { db, notifier } = env.parley.database;
    const channels = createMessagingAccounts({
      db,
      secrets: env.parley.secrets,
      directory: createChannelDirectory(db, notifier),
      adapters: env.parley.adapters,
      stats: createWebhookStats(db),
      publicUrl: env.parley.config.publicUrl,
      checkDeadlineMs: 150,
    });
    const line = { channelId: '2000009999', channelSecret: 'slow-line-secret', channelAccessToken: `slow-${randomBytes(8).toString('hex')}` };
    env.sandbox.line.seedChannel({ channelId: line.channelId, channelSecret: line.channelSecret, accessToken: line.channelAccessToken, botUserId: `U${randomBytes(16).toString('hex')}` });
    env.sandbox.line.injectFault({ kind: 'delay', delayMs: 800, times: 1, match: { token: line.channelAccessToken } });
    const started = Date.now();
    const account = await channels.create({ provider: 'line', name: 'Slow', ...line }, SYSTEM_ACTORS.commandLine);
    assert.ok(Date.now() - started < 700, `the save waited ${Date.now() - started} ms`);
    assert.equal(account.channels[0]!.status, 'pending');
    const channelId = account.channels[0]!.id;
    for (let i = 0; i < 200; i++) {
      const row = await db.selectFrom('channel_instances').select('status').where('id', '=', channelId).executeTakeFirstOrThrow();
      if (row.status !== 'pending') {
        assert.equal(row.status, 'running');
        return;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail('the check never finished');
  } finally {
    await env.close();
  }
});
