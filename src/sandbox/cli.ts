import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { seedDemo, DEMO } from './demo.ts';
import { startSandbox } from './index.ts';

export const DEFAULT_PORTS = { facebook: 4100, twilio: 4101, line: 4102, lineData: 4103 } as const;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Stops a running sandbox (tests); SIGINT/SIGTERM do the same from a terminal. */
  signal?: AbortSignal;
  /** Called once the servers listen. */
  onReady?: (urls: Record<string, string>) => void;
}

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

class UsageError extends Error {}

/** `parley sandbox ...`: runs the emulators, or makes the simulated customer speak to a running sandbox. */
export async function sandboxCommand(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const args = argv[0] === 'sandbox' ? argv.slice(1) : argv;
  try {
    if (args[0] === 'say') return await say(args.slice(1), io);
    return await serve(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`parley sandbox: ${error.message}`);
      return 2;
    }
    io.err(`parley sandbox: ${(error as Error).message}`);
    return 1;
  }
}

const SERVE_OPTIONS = {
  host: { type: 'string' },
  'facebook-port': { type: 'string' },
  'twilio-port': { type: 'string' },
  'line-port': { type: 'string' },
  'line-data-port': { type: 'string' },
  'callback-base': { type: 'string' },
  empty: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

async function serve(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(args, SERVE_OPTIONS, false);
  const sandbox = await startSandbox({
    host: values.host ?? '127.0.0.1',
    ports: {
      facebook: port(values['facebook-port'], '--facebook-port', DEFAULT_PORTS.facebook),
      twilio: port(values['twilio-port'], '--twilio-port', DEFAULT_PORTS.twilio),
      line: port(values['line-port'], '--line-port', DEFAULT_PORTS.line),
      lineData: port(values['line-data-port'], '--line-data-port', DEFAULT_PORTS.lineData),
    },
  });
  const base = values['callback-base'];
  if (base !== undefined && !/^https?:\/\/\S+$/.test(base)) {
    await sandbox.close();
    throw new UsageError('--callback-base expects an http(s) URL, e.g. http://127.0.0.1:3000');
  }
  if (!values.empty) {
    const root = base?.replace(/\/$/, '');
    seedDemo(sandbox, root ? {
      facebookCallbackUrl: `${root}/webhooks/facebook`,
      twilioInboundUrl: `${root}/webhooks/twilio`,
      twilioStatusUrl: `${root}/webhooks/twilio/status`,
      lineWebhookUrl: `${root}/webhooks/line`,
    } : {});
  }
  io.out('Parley provider sandbox is running');
  io.out(`  Facebook Graph  ${sandbox.urls.facebookGraph}`);
  io.out(`  Twilio API      ${sandbox.urls.twilioApi}`);
  io.out(`  LINE API        ${sandbox.urls.lineApi}`);
  io.out(`  LINE data       ${sandbox.urls.lineData}`);
  io.out(`  Test API        <any of the above>/_sandbox/...`);
  if (!values.empty) io.out(`  Demo credentials: ${JSON.stringify(DEMO)}`);
  io.onReady?.(sandbox.urls);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    io.signal?.addEventListener('abort', stop, { once: true });
  });
  await sandbox.close();
  io.out('Parley provider sandbox stopped');
  return 0;
}

const SAY_OPTIONS = {
  channel: { type: 'string' },
  to: { type: 'string' },
  from: { type: 'string' },
  image: { type: 'string' },
  'sandbox-url': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

const MIME: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp' };

async function say(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, SAY_OPTIONS, true);
  const channel = values.channel;
  if (channel !== 'facebook' && channel !== 'whatsapp' && channel !== 'line') {
    throw new UsageError('--channel expects facebook, whatsapp or line');
  }
  if (!values.to) throw new UsageError('--to expects the page id, WhatsApp number or LINE channel id to write to');
  if (!values.from) throw new UsageError('--from expects the customer id (PSID, WhatsApp number or LINE user id)');
  if (positionals.length > 1) throw new UsageError('expects the message text as one quoted argument');
  const text = positionals[0];
  if (text === undefined && values.image === undefined) throw new UsageError('expects a message text or --image <file>');
  const url = (values['sandbox-url'] ?? `http://127.0.0.1:${DEFAULT_PORTS.facebook}`).replace(/\/$/, '');
  if (!/^https?:\/\/\S+$/.test(url)) throw new UsageError('--sandbox-url expects an http(s) URL of a running sandbox');
  const body: Record<string, unknown> = { channel, to: values.to, from: values.from };
  if (text !== undefined) body.text = text;
  if (values.image !== undefined) {
    const contentType = MIME[extname(values.image).toLowerCase()];
    if (!contentType) throw new UsageError('--image expects a .png, .jpg, .jpeg, .gif or .webp file');
    let data: Buffer;
    try {
      data = await readFile(values.image);
    } catch {
      throw new UsageError(`--image expects a readable file; cannot read ${values.image}`);
    }
    body.attachment = { kind: 'image', dataBase64: data.toString('base64'), contentType, fileName: values.image.split('/').pop() };
  }
  const response = await fetch(`${url}/_sandbox/say`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).catch((error: Error) => {
    throw new Error(`cannot reach the sandbox at ${url} (${error.message})`);
  });
  const result = (await response.json()) as { error?: string; delivered?: boolean; messageId?: string; url?: string; status?: number; skipped?: string };
  if (!response.ok) {
    io.err(`parley sandbox say: ${result.error ?? `sandbox answered ${response.status}`}`);
    return 1;
  }
  if (!result.delivered) {
    io.err(`parley sandbox say: message ${result.messageId} not delivered: ${result.skipped ?? `webhook answered ${result.status ?? 'nothing'}`}`);
    return 1;
  }
  io.out(`delivered ${result.messageId} to ${result.url} (HTTP ${result.status})`);
  return 0;
}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, allowPositionals: boolean) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    const flag = /'(-{1,2}[^'\s]+)/.exec(message)?.[1];
    const known = Object.keys(options).map((name) => `--${name}`).join(', ');
    if (/argument missing|requires an argument/i.test(message) && flag) throw new UsageError(`${flag} expects a value`);
    if (/positional/i.test(message)) throw new UsageError(`unexpected argument; expected only options (${known})`);
    throw new UsageError(`unknown option ${flag ?? ''}; expected one of ${known}`.replace(/  +/, ' '));
  }
}

function port(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`${flag} expects a port number from 0 to 65535`);
  return n;
}
