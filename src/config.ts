import { resolve } from 'node:path';
import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';

/**
 * One validated configuration object. Every setting has an environment variable; most have a
 * command-line flag too (flags win). Secrets (the encryption key) are environment-only so they
 * never show up in a process list.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const LogLevel = Type.Union([
  Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'),
  Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent'),
]);

interface Setting {
  key: keyof Config;
  env: string;
  flag?: string;
  schema: TSchema;
  expected: string;
  default?: unknown;
  /** Turns the raw string into the typed value before validation. */
  parse?: (raw: string) => unknown;
}

const integer = (raw: string): unknown => (/^-?\d+$/.test(raw.trim()) ? Number(raw) : raw);

export const SETTINGS: readonly Setting[] = [
  { key: 'host', env: 'PARLEY_HOST', flag: 'host', schema: Type.String({ minLength: 1 }), expected: 'a host name or IP address', default: '127.0.0.1' },
  { key: 'port', env: 'PARLEY_PORT', flag: 'port', schema: Type.Integer({ minimum: 0, maximum: 65535 }), expected: 'an integer from 0 to 65535', default: 8080, parse: integer },
  { key: 'dataDir', env: 'PARLEY_DATA_DIR', flag: 'data-dir', schema: Type.String({ minLength: 1 }), expected: 'a folder path', default: './data' },
  { key: 'databaseUrl', env: 'DATABASE_URL', flag: 'database-url', schema: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })), expected: 'a URL of the form postgres://user:password@host:5432/database' },
  { key: 'publicUrl', env: 'PUBLIC_URL', flag: 'public-url', schema: Type.Optional(Type.String({ pattern: '^https?://[^/\\s]+' })), expected: 'the public base URL providers call, e.g. https://parley.example.com' },
  { key: 'logLevel', env: 'PARLEY_LOG_LEVEL', flag: 'log-level', schema: LogLevel, expected: `one of ${LOG_LEVELS.join(', ')}`, default: 'info' },
  { key: 'secretKey', env: 'PARLEY_SECRET_KEY', schema: Type.Optional(Type.String({ minLength: 1 })), expected: 'one or more comma-separated keys, each 32 bytes in base64 (openssl rand -base64 32)' },
  { key: 'trustProxy', env: 'PARLEY_TRUST_PROXY', flag: 'trust-proxy', schema: Type.Boolean(), expected: 'true or false (true only behind a reverse proxy that sets X-Forwarded-For/-Proto)', default: false, parse: (raw) => (raw === 'true' ? true : raw === 'false' ? false : raw) },
  { key: 'dbPoolSize', env: 'PARLEY_DB_POOL_SIZE', schema: Type.Integer({ minimum: 1, maximum: 200 }), expected: 'an integer from 1 to 200', default: 10, parse: integer },
  { key: 'facebookGraphUrl', env: 'PARLEY_FACEBOOK_GRAPH_URL', schema: Type.String({ pattern: '^https?://' }), expected: 'an http(s) base URL', default: 'https://graph.facebook.com' },
  { key: 'facebookGraphVersion', env: 'PARLEY_FACEBOOK_GRAPH_VERSION', schema: Type.String({ pattern: '^v\\d+\\.\\d+$' }), expected: 'a Graph API version such as v25.0', default: 'v25.0' },
  { key: 'twilioApiUrl', env: 'PARLEY_TWILIO_API_URL', schema: Type.String({ pattern: '^https?://' }), expected: 'an http(s) base URL', default: 'https://api.twilio.com' },
  { key: 'lineApiUrl', env: 'PARLEY_LINE_API_URL', schema: Type.String({ pattern: '^https?://' }), expected: 'an http(s) base URL', default: 'https://api.line.me' },
  { key: 'lineDataUrl', env: 'PARLEY_LINE_DATA_URL', schema: Type.String({ pattern: '^https?://' }), expected: 'an http(s) base URL', default: 'https://api-data.line.me' },
  { key: 'mediaMaxBytes', env: 'PARLEY_MEDIA_MAX_BYTES', schema: Type.Integer({ minimum: 1024, maximum: 1_073_741_824 }), expected: 'bytes, an integer from 1024 to 1073741824', default: 26_214_400, parse: integer },
  { key: 'mediaHosts', env: 'PARLEY_MEDIA_HOSTS', schema: Type.String({ pattern: '^[A-Za-z0-9*.:,\\[\\]-]*$' }), expected: 'comma-separated host names (host, *.domain or host:port) media may also be fetched from', default: '' },
  { key: 'shutdownTimeoutMs', env: 'PARLEY_SHUTDOWN_TIMEOUT_MS', schema: Type.Integer({ minimum: 0, maximum: 600_000 }), expected: 'milliseconds, an integer from 0 to 600000', default: 15_000, parse: integer },
  { key: 'sessionIdleMinutes', env: 'PARLEY_SESSION_IDLE_MINUTES', schema: Type.Integer({ minimum: 1, maximum: 43_200 }), expected: 'minutes, an integer from 1 to 43200 (30 days)', default: 480, parse: integer },
  { key: 'channelRecheckMinutes', env: 'PARLEY_CHANNEL_RECHECK_MINUTES', schema: Type.Integer({ minimum: 1, maximum: 1440 }), expected: 'minutes, an integer from 1 to 1440 (a day)', default: 15, parse: integer },
  { key: 'jobConcurrency', env: 'PARLEY_JOB_CONCURRENCY', schema: Type.Integer({ minimum: 1, maximum: 256 }), expected: 'an integer from 1 to 256', default: 16, parse: integer },
];

const ConfigSchema = Type.Object({
  host: Type.String(),
  port: Type.Integer(),
  dataDir: Type.String(),
  databaseUrl: Type.Optional(Type.String()),
  publicUrl: Type.Optional(Type.String()),
  logLevel: LogLevel,
  secretKey: Type.Optional(Type.String()),
  trustProxy: Type.Boolean(),
  dbPoolSize: Type.Integer(),
  facebookGraphUrl: Type.String(),
  facebookGraphVersion: Type.String(),
  twilioApiUrl: Type.String(),
  lineApiUrl: Type.String(),
  lineDataUrl: Type.String(),
  mediaMaxBytes: Type.Integer(),
  mediaHosts: Type.String(),
  shutdownTimeoutMs: Type.Integer(),
  jobConcurrency: Type.Integer(),
  sessionIdleMinutes: Type.Integer(),
  channelRecheckMinutes: Type.Integer(),
});
export type Config = Static<typeof ConfigSchema>;

/** A configuration mistake: the message names the variable or flag and what is expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function describe(setting: Setting): string {
  return setting.flag ? `${setting.env} (--${setting.flag})` : setting.env;
}

/**
 * Builds the configuration from environment variables and already-parsed flags.
 * Throws ConfigError on the first invalid value, with a one-line message.
 */
export function loadConfig(env: NodeJS.ProcessEnv, flags: Record<string, string | undefined> = {}): Config {
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const fromFlag = setting.flag ? flags[setting.flag] : undefined;
    const raw = fromFlag ?? (env[setting.env] === '' ? undefined : env[setting.env]);
    if (raw === undefined) {
      if (setting.default !== undefined) out[setting.key] = setting.default;
      continue;
    }
    const value = setting.parse ? setting.parse(raw) : raw;
    if (!Value.Check(setting.schema, value)) {
      const shown = setting.key === 'secretKey' ? '(hidden)' : JSON.stringify(raw);
      throw new ConfigError(`invalid ${describe(setting)} ${shown}: expected ${setting.expected}`);
    }
    out[setting.key] = value;
  }
  const config = out as Config;
  config.dataDir = resolve(config.dataDir);
  if (config.publicUrl) config.publicUrl = config.publicUrl.replace(/\/+$/, '');
  for (const key of ['facebookGraphUrl', 'twilioApiUrl', 'lineApiUrl', 'lineDataUrl'] as const) config[key] = config[key].replace(/\/+$/, '');
  return config;
}

/** The flags that map to settings, for the CLI parser. */
export function settingFlags(): Record<string, { type: 'string' }> {
  return Object.fromEntries(SETTINGS.filter((s) => s.flag).map((s) => [s.flag!, { type: 'string' as const }]));
}

/** Where the data of this instance lives, said in words for startup and errors. */
export function databaseLabel(config: Config): string {
  if (!config.databaseUrl) return `embedded PostgreSQL (PGlite) in ${config.dataDir}`;
  const url = new URL(config.databaseUrl);
  return `PostgreSQL at ${url.hostname}:${url.port || '5432'}${url.pathname}`;
}

/** The provider API base URLs (the sandbox's when pointed at it). */
export function providerEndpoints(config: Config) {
  return {
    facebookGraph: config.facebookGraphUrl,
    facebookGraphVersion: config.facebookGraphVersion,
    twilioApi: config.twilioApiUrl,
    lineApi: config.lineApiUrl,
    lineData: config.lineDataUrl,
  };
}

/** Hosts customer media may be fetched from: the providers' own, the configured API hosts, and any extra. */
export function mediaHosts(config: Config): string[] {
  const hostOf = (url: string) => new URL(url).host;
  return [
    '*.fbcdn.net', '*.fbsbx.com', 'api.twilio.com', '*.twiliocdn.com', 's3-external-1.amazonaws.com', 'api-data.line.me',
    hostOf(config.facebookGraphUrl), hostOf(config.twilioApiUrl), hostOf(config.lineApiUrl), hostOf(config.lineDataUrl),
    ...config.mediaHosts.split(',').map((h) => h.trim()).filter(Boolean),
  ];
}
