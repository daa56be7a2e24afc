import type { FastifyInstance } from 'fastify';
import { TEST_API } from '../emulator.ts';
import { jsonObjectOf } from '../http.ts';
import type { FacebookEmulator } from './emulator.ts';

/** Seeding and inspection routes for the Facebook emulator (everything the App Dashboard would do). */
export function registerFacebookTestRoutes(app: FastifyInstance, fb: FacebookEmulator): void {
  app.get(`${TEST_API}/messages`, async () => ({ messages: fb.messages.all() }));
  app.get(`${TEST_API}/apps`, async () => ({ apps: [...fb.apps.values()] }));
  app.get(`${TEST_API}/pages`, async () => ({ pages: [...fb.pages.values()] }));
  app.post(`${TEST_API}/apps`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.appId !== 'string' || typeof body.appSecret !== 'string') {
      return reply.code(400).send({ error: 'appId and appSecret (strings) are required' });
    }
    return reply.code(201).send(
      fb.seedApp({
        appId: body.appId,
        appSecret: body.appSecret,
        ...(typeof body.name === 'string' ? { name: body.name } : {}),
        ...(typeof body.callbackUrl === 'string' ? { callbackUrl: body.callbackUrl } : {}),
        ...(typeof body.verifyToken === 'string' ? { verifyToken: body.verifyToken } : {}),
      }),
    );
  });
  app.post(`${TEST_API}/pages`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.pageId !== 'string' || typeof body.accessToken !== 'string' || typeof body.appId !== 'string') {
      return reply.code(400).send({ error: 'pageId, accessToken and appId (strings) are required' });
    }
    if (!fb.apps.has(body.appId)) return reply.code(400).send({ error: `app ${body.appId} is not seeded` });
    return reply.code(201).send(
      fb.seedPage({
        pageId: body.pageId,
        accessToken: body.accessToken,
        appId: body.appId,
        ...(typeof body.name === 'string' ? { name: body.name } : {}),
        ...(Array.isArray(body.subscribedFields) || body.subscribedFields === null
          ? { subscribedFields: body.subscribedFields as string[] | null }
          : {}),
      }),
    );
  });
  app.post(`${TEST_API}/users`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.psid !== 'string' || typeof body.pageId !== 'string') {
      return reply.code(400).send({ error: 'psid and pageId (strings) are required' });
    }
    return reply.code(201).send(
      fb.seedUser({
        psid: body.psid,
        pageId: body.pageId,
        ...(typeof body.firstName === 'string' ? { firstName: body.firstName } : {}),
        ...(typeof body.lastName === 'string' ? { lastName: body.lastName } : {}),
      }),
    );
  });
  app.post(`${TEST_API}/callback`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.appId !== 'string' || typeof body.callbackUrl !== 'string') {
      return reply.code(400).send({ error: 'appId and callbackUrl (strings) are required' });
    }
    fb.setCallback(body.appId, body.callbackUrl, typeof body.verifyToken === 'string' ? body.verifyToken : undefined);
    return { ok: true };
  });
  app.post(`${TEST_API}/receipts`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if ((body.kind !== 'delivery' && body.kind !== 'read') || typeof body.pageId !== 'string' || typeof body.psid !== 'string') {
      return reply.code(400).send({ error: 'kind (delivery|read), pageId and psid are required' });
    }
    const mids = Array.isArray(body.mids) ? body.mids.map(String) : undefined;
    return { deliveries: await fb.receipt(body.kind, body.pageId, body.psid, mids) };
  });
  app.post(`${TEST_API}/window`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.pageId !== 'string' || typeof body.psid !== 'string' || typeof body.lastInboundAt !== 'number') {
      return reply.code(400).send({ error: 'pageId, psid and lastInboundAt (epoch ms) are required' });
    }
    fb.lastInbound.set(`${body.pageId}:${body.psid}`, body.lastInboundAt);
    return { ok: true };
  });
  app.post(`${TEST_API}/thread-owner`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.pageId !== 'string' || typeof body.psid !== 'string' || typeof body.appId !== 'string') {
      return reply.code(400).send({ error: 'pageId, psid and appId (strings) are required' });
    }
    if (!fb.pages.has(body.pageId)) return reply.code(400).send({ error: `page ${body.pageId} is not seeded` });
    fb.setThreadOwner(body.pageId, body.psid, body.appId);
    return { ok: true, owner: fb.threadOwner(body.pageId, body.psid) };
  });
}
