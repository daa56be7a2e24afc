import type { Kysely } from 'kysely';
import type { Config } from './config.ts';
import { SYSTEM_ACTORS } from './core/audit/log.ts';
import { insertAccount, insertChannelInstance, webhookUrls } from './core/channels/store.ts';
import { hashPassword } from './core/users/passwords.ts';
import { createUser, findUserByEmail } from './core/users/users.ts';
import type { Notifier } from './db/notifier.ts';
import type { DB, Provider } from './db/schema.ts';
import { bindChannels, createQueue, createWorkstream, updateAgent } from './core/routing/settings.ts';
import { startParley, type Parley } from './runtime.ts';
import { DEFAULT_PORTS } from './sandbox/cli.ts';
import { DEMO, seedDemo } from './sandbox/demo.ts';
import { startSandbox, type Sandbox } from './sandbox/index.ts';
import type { SecretBox } from './secrets.ts';

/**
 * `parley start --demo`: Parley with the provider sandbox in the same process, the demo
 * Facebook page, WhatsApp number and LINE account connected both ways, and an admin and an
 * agent to sign in with, so the whole flow can be tried offline in a minute.
 */
export const DEMO_USERS = {
  admin: { email: 'admin@demo.parley.local', password: 'parley-demo-admin', role: 'admin' as const, name: 'Demo Admin' },
  agent: { email: 'agent@demo.parley.local', password: 'parley-demo-agent', role: 'agent' as const, name: 'Demo Agent' },
};

async function ensureUser(db: Kysely<DB>, user: (typeof DEMO_USERS)[keyof typeof DEMO_USERS]): Promise<number> {
  const existing = await findUserByEmail(db, user.email);
  if (!existing) {
    return (await createUser(db, { email: user.email, name: user.name, role: user.role, password: user.password }, SYSTEM_ACTORS.commandLine)).user.id;
  }
  // the demo's printed passwords must keep working after someone changed them
  await db.updateTable('users').set({ password_hash: await hashPassword(user.password), must_change_password: false, disabled_at: null }).where('id', '=', existing.id).execute();
  return existing.id;
}

const DEMO_WORKSTREAM = 'Demo workstream';

/** One workstream for the demo channels, routing to one queue whose member is the demo agent. */
async function ensureWorkstream(db: Kysely<DB>, notifier: Notifier, channelIds: string[], agentId: number): Promise<void> {
  const actor = SYSTEM_ACTORS.commandLine;
  const existing = await db.selectFrom('workstreams').select('id').where('name', '=', DEMO_WORKSTREAM).executeTakeFirst();
  if (!existing) {
    const queue = await createQueue(db, { name: 'Demo queue', assignmentMethod: 'round-robin' }, actor);
    const workstream = await createWorkstream(db, { name: DEMO_WORKSTREAM, defaultQueueId: queue.id, offerTimeoutSeconds: 120 }, actor);
    await bindChannels(db, workstream.id, channelIds, actor);
    await updateAgent(db, notifier, agentId, { queueIds: [queue.id] }, actor);
  }
}

interface DemoChannel {
  provider: Provider;
  account: { name: string; externalId: string; secret: string };
  instance: { name: string; externalId: string; token?: string };
}

const CHANNELS: DemoChannel[] = [
  {
    provider: 'facebook',
    account: { name: 'Demo Facebook app', externalId: DEMO.facebook.appId, secret: DEMO.facebook.appSecret },
    instance: { name: DEMO.facebook.pageName, externalId: DEMO.facebook.pageId, token: DEMO.facebook.pageAccessToken },
  },
  {
    provider: 'twilio-whatsapp',
    account: { name: 'Demo Twilio account', externalId: DEMO.twilio.accountSid, secret: DEMO.twilio.authToken },
    instance: { name: 'Demo WhatsApp number', externalId: DEMO.twilio.whatsappNumber.replace('whatsapp:', '') },
  },
  {
    provider: 'line',
    account: { name: 'Demo LINE account', externalId: DEMO.line.channelId, secret: DEMO.line.channelSecret },
    instance: { name: 'Demo LINE account', externalId: DEMO.line.channelId, token: DEMO.line.accessToken },
  },
];

/** The demo channel of a provider, created on first start and reused after. */
async function ensureChannel(db: Kysely<DB>, secrets: SecretBox, channel: DemoChannel): Promise<{ id: string; webhookKey: string }> {
  const existing = await db
    .selectFrom('channel_instances')
    .select(['id', 'webhook_key'])
    .where('provider', '=', channel.provider)
    .where('external_id', '=', channel.instance.externalId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (existing) return { id: existing.id, webhookKey: existing.webhook_key };
  const accountId = await insertAccount(db, secrets, { provider: channel.provider, ...channel.account });
  const created = await insertChannelInstance(db, secrets, { accountId, provider: channel.provider, ...channel.instance });
  await db.updateTable('channel_instances').set({ status: 'running' }).where('id', '=', created.id).execute();
  return { id: created.id, webhookKey: created.webhookKey };
}

export interface RunningDemo {
  parley: Parley;
  sandbox: Sandbox;
  stop(): Promise<void>;
}

export async function startDemo(config: Config, print: (text: string) => void = () => undefined, sandboxPorts: typeof DEFAULT_PORTS | Record<keyof typeof DEFAULT_PORTS, number> = DEFAULT_PORTS): Promise<RunningDemo> {
  const sandbox = await startSandbox({ host: '127.0.0.1', ports: sandboxPorts });
  const publicUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
  let parley: Parley;
  try {
    parley = await startParley(
      {
        ...config,
        publicUrl,
        facebookGraphUrl: sandbox.urls.facebookGraph,
        twilioApiUrl: sandbox.urls.twilioApi,
        lineApiUrl: sandbox.urls.lineApi,
        lineDataUrl: sandbox.urls.lineData,
      },
      { print },
    );
  } catch (error) {
    await sandbox.close();
    throw error;
  }
  const { db } = parley.database;
  await ensureUser(db, DEMO_USERS.admin);
  const agentId = await ensureUser(db, DEMO_USERS.agent);
  const channels = [];
  for (const channel of CHANNELS) channels.push(await ensureChannel(db, parley.secrets, channel));
  await ensureWorkstream(db, parley.database.notifier, channels.map((c) => c.id), agentId);
  const keys = channels.map((c) => c.webhookKey);
  const [facebook, whatsapp, line] = CHANNELS.map((c, i) => webhookUrls(publicUrl, c.provider, keys[i]!));
  seedDemo(sandbox, {
    facebookCallbackUrl: facebook!.callbackUrl,
    twilioInboundUrl: whatsapp!.callbackUrl,
    twilioStatusUrl: whatsapp!.statusCallbackUrl,
    lineWebhookUrl: line!.callbackUrl,
  });

  print(
    [
      '',
      'Demo: the provider sandbox runs in this process and the demo channels are connected.',
      `  Admin: ${DEMO_USERS.admin.email} / ${DEMO_USERS.admin.password}`,
      `  Agent: ${DEMO_USERS.agent.email} / ${DEMO_USERS.agent.password} (member of the demo queue; set presence with PUT ${parley.url}/api/v1/agents/me/presence {"presence":"available"} to receive offers)`,
      `  Sandbox: Facebook Graph ${sandbox.urls.facebookGraph}, Twilio ${sandbox.urls.twilioApi}, LINE ${sandbox.urls.lineApi} (data ${sandbox.urls.lineData})`,
      'Write as a customer from another terminal:',
      `  npx parley sandbox say --channel facebook --to ${DEMO.facebook.pageId} --from ${DEMO.facebook.customerPsid} "Hello from Messenger"`,
      `  npx parley sandbox say --channel whatsapp --to ${DEMO.twilio.whatsappNumber.replace('whatsapp:', '')} --from ${DEMO.twilio.customerNumber.replace('whatsapp:', '')} "Hola desde WhatsApp"`,
      `  npx parley sandbox say --channel line --to ${DEMO.line.channelId} --from ${DEMO.line.customerUserId} "こんにちは"`,
      `Then sign in and read the conversations: POST ${parley.url}/api/v1/auth/session, GET ${parley.url}/api/v1/conversations (API document: ${parley.url}/api/openapi.json)`,
    ].join('\n'),
  );
  return {
    parley,
    sandbox,
    async stop() {
      await parley.stop();
      await sandbox.close();
    },
  };
}
