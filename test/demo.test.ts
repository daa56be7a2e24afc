import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.ts';
import { DEMO_USERS, startDemo } from '../src/demo.ts';
import { DEMO } from '../src/sandbox/demo.ts';
import { freePort } from './helpers/sandbox.ts';
import { until } from './helpers/wait.ts';

test('the demo starts Parley with the sandbox and demo data: a customer message shows up for the demo admin', async () => {
  const port = await freePort();
  const lines: string[] = [];
  const config = { ...loadConfig({}), port, logLevel: 'silent' as const, dataDir: mkdtempSync(join(tmpdir(), 'parley-demo-')), secretKey: randomBytes(32).toString('base64') };
  const demo = await startDemo(config, (line) => lines.push(line), { facebook: 0, twilio: 0, line: 0, lineData: 0 });
  try {
    const banner = lines.join('\n');
    assert.match(banner, new RegExp(`Admin: ${DEMO_USERS.admin.email} / ${DEMO_USERS.admin.password}`));
    assert.match(banner, /npx parley sandbox say --channel line/);

    const said = await demo.sandbox.customer.say({ channel: 'line', to: DEMO.line.channelId, from: DEMO.line.customerUserId, text: 'hello demo' });
    assert.equal(said.status, 200);

    const signIn = await fetch(`${demo.parley.url}/api/v1/auth/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: DEMO_USERS.admin.email, password: DEMO_USERS.admin.password }),
    });
    assert.equal(signIn.status, 200, await signIn.clone().text());
    const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    let texts: string[] = [];
    for (let i = 0; i < 100 && !texts.includes('hello demo'); i++) {
      const list = (await (await fetch(`${demo.parley.url}/api/v1/conversations`, { headers: { cookie } })).json()) as { conversations: { id: string }[] };
      for (const c of list.conversations) {
        const body = (await (await fetch(`${demo.parley.url}/api/v1/conversations/${c.id}/messages`, { headers: { cookie } })).json()) as { messages: { text: string }[] };
        texts = texts.concat(body.messages.map((m) => m.text));
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(texts.includes('hello demo'));

    // the demo agent is in the demo queue: once available, the conversation is offered to them
    const agentSignIn = await fetch(`${demo.parley.url}/api/v1/auth/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: DEMO_USERS.agent.email, password: DEMO_USERS.agent.password }),
    });
    const agentCookie = agentSignIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const { csrfToken } = (await agentSignIn.json()) as { csrfToken: string };
    const presence = await fetch(`${demo.parley.url}/api/v1/agents/me/presence`, {
      method: 'PUT',
      headers: { cookie: agentCookie, 'content-type': 'application/json', 'x-csrf-token': csrfToken },
      body: JSON.stringify({ presence: 'available' }),
    });
    assert.equal(presence.status, 200, await presence.clone().text());
    const offer = await until(async () => {
      const body = (await (await fetch(`${demo.parley.url}/api/v1/agents/me/offers`, { headers: { cookie: agentCookie } })).json()) as { offers: unknown[] };
      return body.offers[0];
    }, 10_000, 'an offer to the demo agent');
    assert.ok(offer);
  } finally {
    await demo.stop();
  }
});
