import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { sql } from 'kysely';
import { SWEEP_QUEUE } from '../../src/core/routing/sweep.ts';
import { DEMO } from '../../src/sandbox/demo.ts';
import { enqueue } from '../../src/jobs/queue.ts';
import { startSandboxedParley, type SandboxedParley } from '../helpers/sandbox.ts';
import { signedInClient, type ApiClient } from '../helpers/users.ts';

async function until<T>(probe: () => Promise<T | undefined | null | false>, ms = 8000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - start > ms) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const WA_TO = DEMO.twilio.whatsappNumber.replace('whatsapp:', '');

describe('work distribution through the provider sandbox', () => {
  let env: SandboxedParley;
  let admin: ApiClient;
  before(async () => {
    env = await startSandboxedParley();
    admin = await signedInClient(env.parley, 'admin');
  });
  after(async () => {
    await env.close();
  });
  const db = () => env.parley.database.db;

  async function ok<T = any>(client: ApiClient, method: string, path: string, body?: unknown, status = 200): Promise<T> {
    const response = await client.call(method, path, body);
    assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** A queue with these agents, a workstream whose default queue it is, bound to the WhatsApp number. */
  async function setup(options: { agents?: number; workstream?: Record<string, unknown>; queue?: Record<string, unknown> } = {}) {
    const tag = randomInt(1e9);
    const queue = await ok(admin, 'POST', '/api/v1/queues', { name: `Queue ${tag}`, ...options.queue }, 201);
    const workstream = await ok(admin, 'POST', '/api/v1/workstreams', { name: `WhatsApp ${tag}`, defaultQueueId: queue.id, ...options.workstream }, 201);
    await ok(admin, 'PUT', `/api/v1/workstreams/${workstream.id}/channels`, { channelIds: [env.channels.whatsapp.id] });
    const agents: ApiClient[] = [];
    for (let i = 0; i < (options.agents ?? 2); i++) agents.push(await signedInClient(env.parley, 'agent'));
    await ok(admin, 'PUT', `/api/v1/queues/${queue.id}/members`, { userIds: agents.map((a) => a.user.id) });
    return { queue, workstream, agents };
  }

  async function customerWrites(text = 'hello', from = `+1555${randomInt(1e6, 1e7)}`): Promise<string> {
    const said = await env.sandbox.customer.say({ channel: 'whatsapp', to: WA_TO, from, text });
    assert.equal(said.status, 200);
    const message = await until(() => db().selectFrom('messages').select('conversation_id').where('provider_message_id', '=', said.messageId).executeTakeFirst());
    return message.conversation_id;
  }

  const pendingOffer = (conversationId: string, notTo?: number) =>
    until(() => {
      let q = db().selectFrom('offers').selectAll().where('conversation_id', '=', conversationId).where('state', '=', 'pending');
      if (notTo !== undefined) q = q.where('user_id', '<>', notTo);
      return q.executeTakeFirst();
    });
  const conversation = (id: string) => db().selectFrom('conversations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const available = (agent: ApiClient) => ok(agent, 'PUT', '/api/v1/agents/me/presence', { presence: 'available' });

  it('a customer message ends as an offer to the agent of the queue a rule picks; accepting assigns it', async () => {
    const { workstream, agents } = await setup({ agents: 1 });
    const billing = await ok(admin, 'POST', '/api/v1/queues', { name: `Billing ${randomInt(1e9)}` }, 201);
    const biller = await signedInClient(env.parley, 'agent');
    await ok(admin, 'PATCH', `/api/v1/agents/${biller.user.id}`, { queueIds: [billing.id], skills: [{ skill: 'billing', proficiency: 7 }] });
    await ok(admin, 'PUT', `/api/v1/workstreams/${workstream.id}/rules`, { rules: [{ name: 'invoices', conditions: [{ field: 'firstMessage', op: 'contains', value: 'invoice' }], queueId: billing.id, skills: [{ skill: 'billing' }], priority: 5 }] });
    await available(agents[0]!);
    await available(biller);

    const id = await customerWrites('My INVOICE is wrong');
    const offer = await pendingOffer(id);
    assert.equal(offer.user_id, biller.user.id);
    assert.equal(offer.queue_id, billing.id);
    assert.equal((await conversation(id)).state, 'offered');
    const mine = await ok(biller, 'GET', '/api/v1/agents/me/offers');
    assert.equal(mine.offers[0].conversationId, id);
    assert.equal((await agents[0]!.call('POST', `/api/v1/offers/${offer.id}/accept`)).status, 403, 'not their offer');

    await ok(biller, 'POST', `/api/v1/offers/${offer.id}/accept`);
    const accepted = await conversation(id);
    assert.equal(accepted.state, 'active');
    assert.equal(accepted.assigned_user_id, biller.user.id);
    const routing = await ok(biller, 'GET', `/api/v1/conversations/${id}/routing`);
    assert.deepEqual(routing.events.map((e: { kind: string }) => e.kind), ['classified', 'queued', 'offered', 'accepted']);
    assert.equal((await agents[0]!.call('GET', `/api/v1/conversations/${id}/routing`)).status, 403, 'another agent does not see it');
  });

  it('a rejected offer goes to the next agent; an unanswered one times out to the next and sets the agent away', async () => {
    const { agents } = await setup({ agents: 3, workstream: { offerTimeoutSeconds: 1, missedOffersBeforeAway: 1 } });
    for (const a of agents) await available(a);
    const id = await customerWrites();
    const first = await pendingOffer(id);
    const firstAgent = agents.find((a) => a.user.id === first.user_id)!;
    await ok(firstAgent, 'POST', `/api/v1/offers/${first.id}/reject`);
    const second = await pendingOffer(id, first.user_id);
    assert.notEqual(second.user_id, first.user_id);
    // nobody answers: after a second it moves on to the third agent
    const third = await until(() => db().selectFrom('offers').selectAll().where('conversation_id', '=', id).where('state', '=', 'pending').where('user_id', 'not in', [first.user_id, second.user_id]).executeTakeFirst(), 10_000);
    assert.ok(third);
    const missed = await db().selectFrom('agents').select('presence').where('user_id', '=', second.user_id).executeTakeFirstOrThrow();
    assert.equal(missed.presence, 'away');
    const states = await db().selectFrom('offers').select('state').where('conversation_id', '=', id).orderBy('created_at').execute();
    assert.deepEqual(states.map((s) => s.state), ['rejected', 'expired', 'pending']);
  });

  it('with nobody available the conversation waits; when an agent becomes available it is offered to them', async () => {
    const { queue, agents } = await setup({ agents: 1 });
    const id = await customerWrites();
    await until(async () => (await conversation(id)).queue_id === queue.id);
    const waiting = await ok(agents[0]!, 'GET', `/api/v1/queues/${queue.id}/waiting`);
    assert.equal(waiting.waiting[0].conversationId, id);
    assert.equal((await db().selectFrom('offers').select('id').where('conversation_id', '=', id).execute()).length, 0);
    await available(agents[0]!);
    const offer = await pendingOffer(id);
    assert.equal(offer.user_id, agents[0]!.user.id);
  });

  it('a full agent turns busy by itself and available again when a conversation closes', async () => {
    const { agents } = await setup({ agents: 1, workstream: { capacityPerConversation: 60 } });
    await available(agents[0]!);
    const id = await customerWrites();
    const offer = await pendingOffer(id);
    const me = await ok(agents[0]!, 'GET', '/api/v1/agents/me');
    assert.equal(me.presence, 'busy');
    assert.equal(me.presenceAutomatic, true);
    assert.equal(me.usedCapacity, 60);
    const other = await customerWrites();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await conversation(other)).state, 'open', 'no room: it waits');
    await ok(agents[0]!, 'POST', `/api/v1/offers/${offer.id}/accept`);
    await ok(agents[0]!, 'POST', `/api/v1/conversations/${id}/end`);
    await ok(agents[0]!, 'POST', `/api/v1/conversations/${id}/close`);
    assert.equal((await ok(agents[0]!, 'GET', '/api/v1/agents/me')).presence, 'available');
    assert.equal((await pendingOffer(other)).user_id, agents[0]!.user.id);
  });

  it('after the wait an overflow rule names, the conversation moves to another queue', async () => {
    const spill = await ok(admin, 'POST', '/api/v1/queues', { name: `Spill ${randomInt(1e9)}` }, 201);
    const helper = await signedInClient(env.parley, 'agent');
    await ok(admin, 'PUT', `/api/v1/queues/${spill.id}/members`, { userIds: [helper.user.id] });
    await available(helper);
    const { queue } = await setup({ agents: 1, queue: { overflow: [{ when: 'waiting', afterMinutes: 2, action: { type: 'move-to-queue', queueId: spill.id } }] } });
    const id = await customerWrites();
    await until(async () => (await conversation(id)).queue_id === queue.id);
    // two minutes pass
    await until(() => db().updateTable('jobs').set({ run_at: new Date() }).where('queue', '=', 'routing.overflow').where(sql<boolean>`payload->>'conversationId' = ${id}`).returning('id').executeTakeFirst());
    env.parley.runner.wake();
    const offer = await pendingOffer(id);
    assert.equal(offer.user_id, helper.user.id);
    assert.equal((await conversation(id)).queue_id, spill.id);
  });

  it('outside operating hours the conversation waits and the customer gets the automated message', async () => {
    const { agents } = await setup({ agents: 1, workstream: { operatingHours: {}, timeZone: 'Europe/Sofia', outsideHoursAction: { type: 'send-message', text: 'We are closed; we answer from 9:00.' } } });
    await available(agents[0]!);
    const id = await customerWrites();
    const notice = await until(() => db().selectFrom('messages').selectAll().where('conversation_id', '=', id).where('author', '=', 'system').executeTakeFirst());
    assert.equal(notice.text, 'We are closed; we answer from 9:00.');
    assert.equal(notice.direction, 'outbound');
    // delivered like any message, inside the customer's WhatsApp window
    const sent = await until(() => db().selectFrom('messages').selectAll().where('id', '=', notice.id).where('status', 'in', ['sent', 'delivered', 'read', 'failed']).executeTakeFirst());
    assert.notEqual(sent.status, 'failed', `${sent.error_code}: ${sent.error_message}`);
    assert.ok(env.sandbox.twilio.messages.all().some((m) => m.params.Body === 'We are closed; we answer from 9:00.'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await conversation(id)).state, 'open');
  });

  it('an agent transfers to another queue with a note; the conversation is offered there', async () => {
    const { agents } = await setup({ agents: 1 });
    const other = await ok(admin, 'POST', '/api/v1/queues', { name: `Second line ${randomInt(1e9)}` }, 201);
    const expert = await signedInClient(env.parley, 'agent');
    await ok(admin, 'PUT', `/api/v1/queues/${other.id}/members`, { userIds: [expert.user.id] });
    await available(agents[0]!);
    await available(expert);
    const id = await customerWrites();
    const offer = await pendingOffer(id);
    await ok(agents[0]!, 'POST', `/api/v1/offers/${offer.id}/accept`);
    await ok(agents[0]!, 'POST', `/api/v1/conversations/${id}/transfer`, { queueId: other.id, note: 'needs a refund' });
    assert.equal((await pendingOffer(id)).user_id, expert.user.id);
    assert.equal((await ok(agents[0]!, 'GET', '/api/v1/agents/me')).usedCapacity, 0);
    const routing = await ok(admin, 'GET', `/api/v1/conversations/${id}/routing`);
    assert.ok(routing.events.some((e: { reason: string; details: { note?: string } }) => e.reason === 'transfer' && e.details.note === 'needs a refund'));
  });

  it('an agent closes and reopens a conversation; a supervisor reassigns it', async () => {
    const { agents } = await setup({ agents: 2 });
    await available(agents[0]!);
    const id = await customerWrites();
    const offer = await pendingOffer(id);
    const owner = agents.find((a) => a.user.id === offer.user_id)!;
    await ok(owner, 'POST', `/api/v1/offers/${offer.id}/accept`);
    await ok(owner, 'POST', `/api/v1/conversations/${id}/close`);
    assert.equal((await conversation(id)).state, 'closed');
    await ok(owner, 'POST', `/api/v1/conversations/${id}/reopen`);
    assert.equal((await conversation(id)).state, 'active');
    const supervisor = await signedInClient(env.parley, 'supervisor');
    assert.equal((await supervisor.call('POST', `/api/v1/conversations/${id}/assign`, { userId: agents[1]!.user.id })).status, 409, 'never to an offline agent');
    await ok(agents[1]!, 'PUT', '/api/v1/agents/me/presence', { presence: 'do-not-disturb' });
    await ok(supervisor, 'POST', `/api/v1/conversations/${id}/assign`, { userId: agents[1]!.user.id });
    assert.equal((await conversation(id)).assigned_user_id, agents[1]!.user.id);
    assert.equal((await owner.call('POST', `/api/v1/conversations/${id}/end`)).status, 403, 'no longer theirs');
  });

  it('an agent waits for the customer; the customer\'s answer makes it active again with the same agent', async () => {
    const { agents } = await setup({ agents: 2 });
    await available(agents[0]!);
    const from = `+1555${randomInt(1e6, 1e7)}`;
    const id = await customerWrites('hello', from);
    const offer = await pendingOffer(id);
    const owner = agents.find((a) => a.user.id === offer.user_id)!;
    const other = agents.find((a) => a !== owner)!;
    await ok(owner, 'POST', `/api/v1/offers/${offer.id}/accept`);
    assert.equal((await other.call('POST', `/api/v1/conversations/${id}/wait`)).status, 403, 'not their conversation');
    await ok(owner, 'POST', `/api/v1/conversations/${id}/wait`);
    const waiting = await conversation(id);
    assert.equal(waiting.state, 'waiting');
    assert.equal(waiting.assigned_user_id, owner.user.id);
    assert.equal((await ok(owner, 'GET', '/api/v1/agents/me')).usedCapacity, waiting.held_capacity, 'the capacity stays held');
    assert.equal((await owner.call('POST', `/api/v1/conversations/${id}/wait`)).status, 409, 'already waiting');

    assert.equal(await customerWrites('here is my order number', from), id);
    await until(async () => (await conversation(id)).state === 'active');
    assert.equal((await conversation(id)).assigned_user_id, owner.user.id);
    const routing = await ok(owner, 'GET', `/api/v1/conversations/${id}/routing`);
    const last = routing.events.slice(-2).map((e: { kind: string; from: string; to: string; actor: string }) => [e.kind, e.from, e.to, e.actor]);
    assert.deepEqual(last, [['waiting', 'active', 'waiting', owner.user.email], ['resumed', 'waiting', 'active', 'routing']]);

    // the agent may also stop waiting by themselves; only from waiting
    await ok(owner, 'POST', `/api/v1/conversations/${id}/wait`);
    await ok(owner, 'POST', `/api/v1/conversations/${id}/resume`);
    assert.equal((await conversation(id)).state, 'active');
    assert.equal((await owner.call('POST', `/api/v1/conversations/${id}/resume`)).status, 409);
    await ok(owner, 'POST', `/api/v1/conversations/${id}/end`);
    assert.equal((await owner.call('POST', `/api/v1/conversations/${id}/wait`)).status, 409, 'wrap-up cannot wait');
  });

  it('conversations whose customer stays silent past the workstream limit close by themselves, unless waiting for the customer', async () => {
    const { agents } = await setup({ agents: 1, workstream: { autoCloseHours: 24, keepOpenWaiting: true } });
    await available(agents[0]!);
    const id = await customerWrites();
    const offer = await pendingOffer(id);
    await ok(agents[0]!, 'POST', `/api/v1/offers/${offer.id}/accept`);
    const kept = await customerWrites();
    const keptOffer = await pendingOffer(kept);
    await ok(agents[0]!, 'POST', `/api/v1/offers/${keptOffer.id}/accept`);
    await ok(agents[0]!, 'POST', `/api/v1/conversations/${kept}/wait`);
    const silent = new Date(Date.now() - 25 * 3_600_000);
    await db().updateTable('conversations').set({ last_customer_message_at: silent }).where('id', 'in', [id, kept]).execute();
    await enqueue(db(), { queue: SWEEP_QUEUE });
    await until(async () => (await conversation(id)).state === 'closed');
    assert.equal((await conversation(kept)).state, 'waiting', 'kept open while the agent waits for the customer');
    await ok(agents[0]!, 'POST', `/api/v1/conversations/${kept}/close`);
    const closed = await db().selectFrom('conversation_events').select('reason').where('conversation_id', '=', id).where('kind', '=', 'closed').executeTakeFirstOrThrow();
    assert.equal(closed.reason, 'inactivity');
    assert.equal((await ok(agents[0]!, 'GET', '/api/v1/agents/me')).usedCapacity, 0);
  });

  it('configuration is for administrators; supervisors may read it', async () => {
    const supervisor = await signedInClient(env.parley, 'supervisor');
    const agent = await signedInClient(env.parley, 'agent');
    assert.equal((await supervisor.call('GET', '/api/v1/workstreams')).status, 200);
    assert.equal((await supervisor.call('POST', '/api/v1/queues', { name: 'nope' })).status, 403);
    assert.equal((await agent.call('GET', '/api/v1/queues')).status, 403);
    const bad = await admin.call('POST', '/api/v1/workstreams', { name: `Bad ${randomInt(1e9)}`, timeZone: 'Mars/Olympus' });
    assert.equal(bad.status, 422);
  });

  it('templates belong to a workstream and list their variables', async () => {
    const { workstream } = await setup({ agents: 0 });
    const t = await ok(admin, 'POST', `/api/v1/workstreams/${workstream.id}/templates`, { name: 'shipped', language: 'en', body: 'Hi {{1}}, order {{2}} shipped', providerTemplateId: 'HX123' }, 201);
    assert.deepEqual(t.variables, [1, 2]);
    assert.equal((await admin.call('POST', `/api/v1/workstreams/${workstream.id}/templates`, { name: 'gap', language: 'en', body: 'Hi {{2}}' })).status, 422);
    const list = await ok(admin, 'GET', `/api/v1/workstreams/${workstream.id}/templates`);
    assert.equal(list.templates.length, 1);
  });
});
