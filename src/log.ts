import { pino, type Logger, type LoggerOptions } from 'pino';
import type { Config } from './config.ts';

/**
 * JSON logs (pino). Secrets never reach them: credentials in headers and bodies are redacted by
 * path, and query parameters that carry tokens are masked in logged URLs.
 */
const SECRET_QUERY = /([?&](?:access_token|hub\.verify_token|verify_token|token|secret|signature)=)[^&#]*/gi;

export function maskUrl(url: string): string {
  return url.replace(SECRET_QUERY, '$1[redacted]');
}

const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.pageAccessToken',
  '*.appSecret',
  '*.authToken',
  '*.channelSecret',
  '*.channelAccessToken',
  '*.secretKey',
  '*.secret',
];

export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: {
      req(req: { method: string; url: string; ip?: string; id?: string }) {
        return { method: req.method, url: maskUrl(req.url), remoteAddress: req.ip };
      },
    },
  };
  return pino(options);
}
