import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

/** The request body exactly as received, plus the parsed form when the content type allows. */
export interface RawBody {
  raw: Buffer;
  json?: unknown;
  jsonError?: boolean;
  form?: URLSearchParams;
}

/** What a provider route answers; the emulator base turns it into the HTTP reply and a record. */
export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Destroys the socket without answering, as a crashed proxy would. */
  drop?: boolean;
}

/**
 * Fastify app whose body parsers keep the raw bytes: the emulators must see what Parley sent,
 * and must not reject malformed bodies before answering with the provider's own error shape.
 */
export function createApp(): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 32 * 1024 * 1024, forceCloseConnections: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, raw: Buffer, done) => {
    const body: RawBody = { raw };
    if (raw.length > 0) {
      try {
        body.json = JSON.parse(raw.toString('utf8'));
      } catch {
        body.jsonError = true;
      }
    }
    done(null, body);
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (_req, raw: Buffer, done) => {
    done(null, { raw, form: new URLSearchParams(raw.toString('utf8')) } satisfies RawBody);
  });
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, raw: Buffer, done) => {
    done(null, { raw } satisfies RawBody);
  });
  return app;
}

export function rawBodyOf(request: FastifyRequest): RawBody {
  const body = request.body as RawBody | undefined;
  return body && Buffer.isBuffer(body.raw) ? body : { raw: Buffer.alloc(0) };
}

/** JSON object from a test-API request body (form bodies become flat objects). */
export function jsonObjectOf(request: FastifyRequest): Record<string, unknown> {
  const body = rawBodyOf(request);
  if (body.form) return Object.fromEntries(body.form);
  return isRecord(body.json) ? body.json : {};
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function queryOf(request: FastifyRequest): URLSearchParams {
  const index = request.url.indexOf('?');
  return new URLSearchParams(index === -1 ? '' : request.url.slice(index + 1));
}

export function pathOf(request: FastifyRequest): string {
  const index = request.url.indexOf('?');
  return index === -1 ? request.url : request.url.slice(0, index);
}

export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const value = header(request, 'authorization');
  const match = value && /^Bearer\s+(.+)$/i.exec(value.trim());
  return match ? match[1] : undefined;
}

export function basicCredentials(request: FastifyRequest): { user: string; password: string } | undefined {
  const value = header(request, 'authorization');
  const match = value && /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(value.trim());
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function send(reply: FastifyReply, answer: Answer): FastifyReply | undefined {
  if (answer.drop) {
    reply.hijack();
    reply.raw.socket?.destroy();
    return undefined;
  }
  reply.code(answer.status);
  for (const [name, value] of Object.entries(answer.headers ?? {})) reply.header(name, value);
  if (answer.body === undefined) return reply.send();
  if (typeof answer.body === 'string' || Buffer.isBuffer(answer.body)) return reply.send(answer.body);
  if (!answer.headers || !Object.keys(answer.headers).some((h) => h.toLowerCase() === 'content-type')) {
    reply.header('content-type', 'application/json; charset=utf-8');
  }
  return reply.send(JSON.stringify(answer.body));
}

export async function listen(app: FastifyInstance, host: string, port: number): Promise<string> {
  await app.listen({ host, port });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('server has no TCP address');
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${address.port}`;
}
