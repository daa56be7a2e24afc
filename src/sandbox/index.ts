import { createClock, type Clock } from './clock.ts';
import { Customer, registerCustomerRoute } from './customer.ts';
import { FacebookEmulator } from './facebook/emulator.ts';
import { LineEmulator } from './line/emulator.ts';
import { TwilioEmulator } from './twilio/emulator.ts';

export { createClock, type Clock } from './clock.ts';
export { Customer, type SayInput, type SayResult, type CustomerAttachment, type CustomerChannel } from './customer.ts';
export { DEMO, seedDemo, type DemoWebhooks } from './demo.ts';
export { FacebookEmulator } from './facebook/emulator.ts';
export { TwilioEmulator } from './twilio/emulator.ts';
export { LineEmulator } from './line/emulator.ts';
export { REQUEST_FAULTS, WEBHOOK_FAULTS, type FaultInput, type FaultKind } from './faults.ts';
export { metaSignatureHeaders, twilioSignature, lineSignature } from './signing.ts';
export { metaJson } from './meta-json.ts';
export { TEST_API } from './emulator.ts';

export interface SandboxPorts {
  facebook?: number;
  twilio?: number;
  line?: number;
  lineData?: number;
}

export interface SandboxOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  ports?: SandboxPorts;
  clock?: Clock;
}

export interface Sandbox {
  urls: { facebookGraph: string; twilioApi: string; lineApi: string; lineData: string };
  clock: Clock;
  facebook: FacebookEmulator;
  twilio: TwilioEmulator;
  line: LineEmulator;
  customer: Customer;
  /** Clears recordings, faults and runtime state of all emulators (seeds kept unless keepSeeds is false). */
  reset(options?: { keepSeeds?: boolean }): void;
  close(): Promise<void>;
}

/** Starts the three provider emulators (four servers: LINE has a separate data host) sharing one clock. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const ports = options.ports ?? {};
  const clock = options.clock ?? createClock();
  const facebook = new FacebookEmulator({ clock });
  const twilio = new TwilioEmulator({ clock });
  const line = new LineEmulator({ clock });
  const customer = new Customer({ facebook, twilio, line });
  // Any emulator's test API can make the customer speak, so one URL is enough for the CLI.
  for (const emulator of [facebook, twilio, line]) emulator.addRoutes((app) => registerCustomerRoute(app, customer));
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const facebookGraph = await facebook.listen(host, ports.facebook ?? 0);
    started.push(facebook);
    const twilioApi = await twilio.listen(host, ports.twilio ?? 0);
    started.push(twilio);
    const lineData = await line.listenData(host, ports.lineData ?? 0);
    started.push(line);
    const lineApi = await line.listen(host, ports.line ?? 0);
    return {
      urls: { facebookGraph, twilioApi, lineApi, lineData },
      clock,
      facebook,
      twilio,
      line,
      customer,
      reset(resetOptions) {
        for (const emulator of [facebook, twilio, line]) emulator.reset(resetOptions);
      },
      async close() {
        await Promise.all([facebook.close(), twilio.close(), line.close()]);
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.close()));
    throw error;
  }
}
