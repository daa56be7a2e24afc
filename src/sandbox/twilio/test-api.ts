import type { FastifyInstance } from 'fastify';
import { TEST_API } from '../emulator.ts';
import { jsonObjectOf } from '../http.ts';
import type { TwilioEmulator } from './emulator.ts';

const optionalString = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** Seeding and inspection routes for the Twilio emulator (what the Twilio console would do). */
export function registerTwilioTestRoutes(app: FastifyInstance, tw: TwilioEmulator): void {
  app.get(`${TEST_API}/messages`, async () => ({ messages: tw.messages.all() }));
  app.get(`${TEST_API}/accounts`, async () => ({ accounts: [...tw.accounts.values()] }));
  app.get(`${TEST_API}/numbers`, async () => ({ numbers: [...tw.numbers.values()] }));
  app.get(`${TEST_API}/templates`, async () => ({ templates: [...tw.templates.values()] }));
  app.post(`${TEST_API}/accounts`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.sid !== 'string' || typeof body.authToken !== 'string') {
      return reply.code(400).send({ error: 'sid and authToken (strings) are required' });
    }
    return reply.code(201).send(
      tw.seedAccount({
        sid: body.sid,
        authToken: body.authToken,
        ...(typeof body.friendlyName === 'string' ? { friendlyName: body.friendlyName } : {}),
        ...(typeof body.enforceMediaAuth === 'boolean' ? { enforceMediaAuth: body.enforceMediaAuth } : {}),
      }),
    );
  });
  app.post(`${TEST_API}/numbers`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.accountSid !== 'string' || typeof body.number !== 'string') {
      return reply.code(400).send({ error: 'accountSid and number (strings) are required' });
    }
    if (!tw.accounts.has(body.accountSid)) return reply.code(400).send({ error: `account ${body.accountSid} is not seeded` });
    const existing = tw.numbers.get(body.number.startsWith('whatsapp:') ? body.number : `whatsapp:${body.number}`);
    if (existing) {
      return tw.configureNumber(body.number, { inboundUrl: optionalString(body.inboundUrl), statusUrl: optionalString(body.statusUrl) });
    }
    return reply.code(201).send(
      tw.seedNumber({
        accountSid: body.accountSid,
        number: body.number,
        ...(typeof body.inboundUrl === 'string' ? { inboundUrl: body.inboundUrl } : {}),
        ...(typeof body.statusUrl === 'string' ? { statusUrl: body.statusUrl } : {}),
        ...(typeof body.messagingServiceSid === 'string' ? { messagingServiceSid: body.messagingServiceSid } : {}),
      }),
    );
  });
  app.post(`${TEST_API}/templates`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.body !== 'string') return reply.code(400).send({ error: 'body (string) is required' });
    const variables = typeof body.variables === 'object' && body.variables !== null ? (body.variables as Record<string, string>) : undefined;
    return reply.code(201).send(
      tw.seedTemplate({
        body: body.body,
        ...(typeof body.sid === 'string' ? { sid: body.sid } : {}),
        ...(typeof body.friendlyName === 'string' ? { friendlyName: body.friendlyName } : {}),
        ...(variables ? { variables } : {}),
      }),
    );
  });
  app.post<{ Params: { sid: string } }>(`${TEST_API}/messages/:sid/status`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.status !== 'string') return reply.code(400).send({ error: 'status (string) is required' });
    if (!tw.messages.filter((m) => m.sid === request.params.sid).length) return reply.code(404).send({ error: 'no such message' });
    const errorCode = typeof body.errorCode === 'number' ? body.errorCode : undefined;
    return { deliveries: await tw.setStatus(request.params.sid, body.status, errorCode) };
  });
  app.post(`${TEST_API}/window`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.customer !== 'string' || typeof body.number !== 'string' || typeof body.lastInboundAt !== 'number') {
      return reply.code(400).send({ error: 'customer, number and lastInboundAt (epoch ms) are required' });
    }
    const address = (n: string) => (n.startsWith('whatsapp:') ? n : `whatsapp:${n}`);
    tw.lastInbound.set(`${address(body.customer)}|${address(body.number)}`, body.lastInboundAt);
    return { ok: true };
  });
}
