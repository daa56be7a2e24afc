import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sandboxCommand } from '../../src/sandbox/cli.ts';
import { DEMO } from '../../src/sandbox/demo.ts';
import { startReceiver } from './receiver.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe('parley sandbox', () => {
  it('rejects bad flags with one line naming the flag, exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--facebook-port', 'abc'], /--facebook-port expects a port number/],
      [['--bogus'], /unknown option --bogus; expected one of --host/],
      [['--host'], /--host expects a value/],
      [['say', '--channel', 'sms', '--to', 'x', '--from', 'y', 'hi'], /--channel expects facebook, whatsapp or line/],
      [['say', '--channel', 'line', '--from', 'y', 'hi'], /--to expects/],
      [['say', '--channel', 'line', '--to', 'x', '--from', 'y', '--image', 'a.txt'], /--image expects a \.png/],
    ];
    for (const [argv, message] of cases) {
      const { err, io } = capture();
      assert.equal(await sandboxCommand(argv, io), 2, argv.join(' '));
      assert.equal(err.length, 1);
      assert.match(err[0]!, message);
    }
  });

  it('runs the servers with demo seeds, delivers a customer message through say, and stops', async () => {
    const receiver = await startReceiver();
    const { out, io } = capture();
    const controller = new AbortController();
    let urls: Record<string, string> = {};
    const ready = new Promise<void>((resolve) => {
      Object.assign(io, { signal: controller.signal, onReady: (u: Record<string, string>) => ((urls = u), resolve()) });
    });
    const running = sandboxCommand(
      ['sandbox', '--facebook-port', '0', '--twilio-port', '0', '--line-port', '0', '--line-data-port', '0', '--callback-base', receiver.url],
      io,
    );
    await ready;
    assert.ok(out.some((line) => line.includes(urls.facebookGraph!)));
    const said = capture();
    const code = await sandboxCommand(
      ['say', '--channel', 'line', '--to', DEMO.line.channelId, '--from', DEMO.line.customerUserId, '--sandbox-url', urls.twilioApi!, 'hello from the CLI'],
      said.io,
    );
    assert.equal(code, 0, said.err.join('\n'));
    assert.match(said.out[0]!, /^delivered \d+ to .*\/webhooks\/line \(HTTP 200\)$/);
    assert.equal(JSON.parse(receiver.received[0]!.body).events[0].message.text, 'hello from the CLI');
    controller.abort();
    assert.equal(await running, 0);
    await receiver.close();
  });
});
