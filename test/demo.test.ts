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
  } finally {
    await demo.stop();
  }
});
