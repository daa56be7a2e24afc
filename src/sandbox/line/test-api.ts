import type { FastifyInstance } from 'fastify';
import { TEST_API } from '../emulator.ts';
import { jsonObjectOf } from '../http.ts';
import type { LineEmulator } from './emulator.ts';

/** Seeding and inspection routes for the LINE emulator (what the LINE Developers Console would do). */
export function registerLineTestRoutes(app: FastifyInstance, line: LineEmulator): void {
  app.get(`${TEST_API}/messages`, async () => ({ messages: line.messages.all() }));
  app.get(`${TEST_API}/channels`, async () => ({ channels: [...line.channels.values()] }));
  app.post(`${TEST_API}/channels`, async (request, reply) => {
    const body = jsonObjectOf(request);
    for (const field of ['channelId', 'channelSecret', 'accessToken', 'botUserId']) {
      if (typeof body[field] !== 'string') return reply.code(400).send({ error: `${field} (string) is required` });
    }
    try {
      return reply.code(201).send(
        line.seedChannel({
          channelId: String(body.channelId),
          channelSecret: String(body.channelSecret),
          accessToken: String(body.accessToken),
          botUserId: String(body.botUserId),
          ...(typeof body.name === 'string' ? { name: body.name } : {}),
          ...(typeof body.webhookEndpoint === 'string' ? { webhookEndpoint: body.webhookEndpoint } : {}),
          ...(typeof body.redelivery === 'boolean' ? { redelivery: body.redelivery } : {}),
        }),
      );
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
  });
  app.post(`${TEST_API}/channels/:channelId/settings`, async (request, reply) => {
    const body = jsonObjectOf(request);
    const { channelId } = request.params as { channelId: string };
    const channel = line.channels.get(channelId);
    if (!channel) return reply.code(404).send({ error: 'no such channel' });
    if (typeof body.webhookEndpoint === 'string') channel.webhookEndpoint = body.webhookEndpoint;
    if (typeof body.redelivery === 'boolean') channel.redelivery = body.redelivery;
    return channel;
  });
  app.post(`${TEST_API}/users`, async (request, reply) => {
    const body = jsonObjectOf(request);
    if (typeof body.userId !== 'string') return reply.code(400).send({ error: 'userId (string) is required' });
    return reply.code(201).send(
      line.seedUser({ userId: body.userId, ...(typeof body.displayName === 'string' ? { displayName: body.displayName } : {}) }),
    );
  });
  app.post(`${TEST_API}/contents/:messageId`, async (request, reply) => {
    const body = jsonObjectOf(request);
    const { messageId } = request.params as { messageId: string };
    const content = line.contents.get(messageId);
    if (!content) return reply.code(404).send({ error: 'no such content' });
    if (typeof body.pendingPolls === 'number') content.pendingPolls = body.pendingPolls;
    if (typeof body.gone === 'boolean') content.gone = body.gone;
    return content;
  });
}
