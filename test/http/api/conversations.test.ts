import { test } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../../helpers/wait.ts';
import { enqueue } from '../../../src/jobs/queue.ts';
import { PermanentFailure } from '../../../src/jobs/runner.ts';
import { DEMO } from '../../../src/sandbox/demo.ts';
import { startSandboxedParley } from '../../helpers/sandbox.ts';
import { signedInClient, tokenClient } from '../../helpers/users.ts';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');


test('a supervisor reads conversations, messages in provider order, and downloads an attachment; an agent sees none that are not theirs', async () => {
  const env = await startSandboxedParley();
  try {
    const supervisor = await signedInClient(env.parley, 'supervisor');
    const agent = await signedInClient(env.parley, 'agent');
    const who = { channel: 'facebook' as const, to: DEMO.facebook.pageId, from: DEMO.facebook.customerPsid };
    await env.sandbox.customer.say({ ...who, text: 'first' });
    await env.sandbox.customer.say({ ...who, attachment: { kind: 'image', data: PNG, contentType: 'image/png' } });

    const conversation = await until(async () => {
      const list = await supervisor.call('GET', '/api/v1/conversations');
      return list.body.conversations.find((c: { channel: { id: string } }) => c.channel.id === env.channels.facebook.id);
    });
    assert.equal(conversation.customer.providerUserId, DEMO.facebook.customerPsid);
    assert.equal(conversation.state, 'open');

    const messages = await until(async () => {
      const body = (await supervisor.call('GET', `/api/v1/conversations/${conversation.id}/messages`)).body;
      return body.messages.length === 2 && body.messages[1].attachments[0]?.state === 'stored' ? body.messages : undefined;
    });
    assert.equal(messages[0].text, 'first');
    assert.equal(messages[1].kind, 'image');
    const file = await fetch(`${env.parley.url}/api/v1/attachments/${messages[1].attachments[0].id}`, { headers: { cookie: supervisor.cookie! } });
    assert.equal(file.status, 200);
    assert.equal(file.headers.get('content-type'), 'image/png');
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), PNG);

    assert.deepEqual((await agent.call('GET', '/api/v1/conversations')).body, { conversations: [] });
    assert.equal((await agent.call('GET', `/api/v1/conversations/${conversation.id}/messages`)).status, 403);
    assert.equal((await supervisor.call('GET', '/api/v1/conversations/00000000-0000-4000-8000-000000000000')).status, 404);
  } finally {
    await env.close();
  }
});

test('work that failed for good shows in the dead-letter list with its error, and an admin replays it', async () => {
  const env = await startSandboxedParley();
  try {
    const admin = await tokenClient(env.parley, 'admin');
    let fixed = false;
    let ran = 0;
    env.parley.runner.register('test.flaky', async () => {
      ran += 1;
      if (!fixed) throw new PermanentFailure('the remote system refused the request');
    });
    await enqueue(env.parley.database.db, { queue: 'test.flaky' });
    env.parley.runner.wake();
    const dead = await until(async () => {
      const list = await admin.call('GET', '/api/v1/dead-letters?queue=test.flaky');
      return list.body.deadLetters[0];
    });
    assert.equal(dead.lastError, 'the remote system refused the request');
    assert.equal(dead.inbound, null);
    fixed = true;
    const replay = await admin.call('POST', '/api/v1/dead-letters/replay', { ids: [dead.id] });
    assert.deepEqual(replay.body, { replayed: 1 });
    await until(async () => ran === 2);
    await until(async () => (await admin.call('GET', '/api/v1/dead-letters?queue=test.flaky')).body.deadLetters.length === 0);
    const agent = await tokenClient(env.parley, 'agent');
    assert.equal((await agent.call('GET', '/api/v1/dead-letters')).status, 403);
  } finally {
    await env.close();
  }
});
