import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { permits, sessionWindow, type SessionWindowInput } from '../../../src/core/conversations/session-window.ts';
import { facebookCapabilities } from '../../../src/providers/facebook/capabilities.ts';
import { lineCapabilities } from '../../../src/providers/line/capabilities.ts';
import { twilioCapabilities } from '../../../src/providers/twilio-whatsapp/capabilities.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const now = new Date('2025-03-10T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);

type Case = [label: string, input: Partial<SessionWindowInput>, expected: { state: string; allowed: string; facebookMode?: string; closesAt?: Date | null }];

function input(provider: SessionWindowInput['provider'], over: Partial<SessionWindowInput>): SessionWindowInput {
  const capabilities = provider === 'facebook' ? facebookCapabilities : provider === 'line' ? lineCapabilities : twilioCapabilities;
  return { capabilities, provider, lastCustomerMessageAt: null, conversationOpenedAt: ago(30 * D), workstream: null, sender: 'agent', now, ...over };
}

const tagOn = { facebookHumanAgentTag: true, facebookTagEnabledAt: ago(60 * D) };
const tagOff = { facebookHumanAgentTag: false, facebookTagEnabledAt: null };

const whatsapp: Case[] = [
  ['never wrote', {}, { state: 'closed', allowed: 'template-only', closesAt: null }],
  ['1 minute ago', { lastCustomerMessageAt: ago(M) }, { state: 'open', allowed: 'free-form', closesAt: new Date(ago(M).getTime() + D) }],
  ['23:59 ago', { lastCustomerMessageAt: ago(23 * H + 59 * M) }, { state: 'open', allowed: 'free-form' }],
  ['exactly 24:00:00 ago', { lastCustomerMessageAt: ago(D) }, { state: 'open', allowed: 'free-form', closesAt: now }],
  ['24:00:01 ago', { lastCustomerMessageAt: ago(D + S) }, { state: 'closed', allowed: 'template-only', closesAt: null }],
  ['6 days ago', { lastCustomerMessageAt: ago(6 * D) }, { state: 'closed', allowed: 'template-only' }],
  ['bot inside', { lastCustomerMessageAt: ago(H), sender: 'bot' }, { state: 'open', allowed: 'free-form' }],
];

const facebook: Case[] = [
  ['never wrote', { workstream: tagOn }, { state: 'closed', allowed: 'nothing' }],
  ['23 h, tag off', { lastCustomerMessageAt: ago(23 * H), workstream: tagOff }, { state: 'open', allowed: 'free-form', facebookMode: 'RESPONSE' }],
  ['23:59, tag off', { lastCustomerMessageAt: ago(23 * H + 59 * M) }, { state: 'open', allowed: 'free-form', facebookMode: 'RESPONSE' }],
  ['24:00:01, tag off', { lastCustomerMessageAt: ago(D + S), workstream: tagOff }, { state: 'closed', allowed: 'nothing' }],
  ['25 h, no workstream', { lastCustomerMessageAt: ago(25 * H) }, { state: 'closed', allowed: 'nothing' }],
  ['24:00:01, tag on', { lastCustomerMessageAt: ago(D + S), workstream: tagOn }, { state: 'closed', allowed: 'tagged', facebookMode: 'HUMAN_AGENT', closesAt: new Date(ago(D + S).getTime() + 7 * D) }],
  ['25 h, tag on', { lastCustomerMessageAt: ago(25 * H), workstream: tagOn }, { state: 'closed', allowed: 'tagged', facebookMode: 'HUMAN_AGENT' }],
  ['6 d 23 h, tag on', { lastCustomerMessageAt: ago(6 * D + 23 * H), workstream: tagOn }, { state: 'closed', allowed: 'tagged', facebookMode: 'HUMAN_AGENT' }],
  ['exactly 7 d, tag on', { lastCustomerMessageAt: ago(7 * D), workstream: tagOn }, { state: 'closed', allowed: 'tagged', facebookMode: 'HUMAN_AGENT', closesAt: now }],
  ['7 d + 1 s, tag on', { lastCustomerMessageAt: ago(7 * D + S), workstream: tagOn }, { state: 'closed', allowed: 'nothing', closesAt: null }],
  ['8 d, tag on', { lastCustomerMessageAt: ago(8 * D), workstream: tagOn }, { state: 'closed', allowed: 'nothing' }],
  ['25 h, tag on, bot', { lastCustomerMessageAt: ago(25 * H), workstream: tagOn, sender: 'bot' }, { state: 'closed', allowed: 'nothing' }],
  ['25 h, tag on, system', { lastCustomerMessageAt: ago(25 * H), workstream: tagOn, sender: 'system' }, { state: 'closed', allowed: 'nothing' }],
  ['23 h, tag on, bot', { lastCustomerMessageAt: ago(23 * H), workstream: tagOn, sender: 'bot' }, { state: 'open', allowed: 'free-form', facebookMode: 'RESPONSE' }],
  [
    '25 h, tag turned on after the conversation opened',
    { lastCustomerMessageAt: ago(25 * H), conversationOpenedAt: ago(3 * D), workstream: { facebookHumanAgentTag: true, facebookTagEnabledAt: ago(2 * D) } },
    { state: 'closed', allowed: 'nothing' },
  ],
  [
    '25 h, tag turned on the instant the conversation opened',
    { lastCustomerMessageAt: ago(25 * H), conversationOpenedAt: ago(2 * D), workstream: { facebookHumanAgentTag: true, facebookTagEnabledAt: ago(2 * D) } },
    { state: 'closed', allowed: 'tagged', facebookMode: 'HUMAN_AGENT' },
  ],
  [
    '25 h, tag turned off again after the conversation opened',
    { lastCustomerMessageAt: ago(25 * H), conversationOpenedAt: ago(2 * D), workstream: { facebookHumanAgentTag: false, facebookTagEnabledAt: ago(9 * D) } },
    { state: 'closed', allowed: 'nothing' },
  ],
];

const line: Case[] = [
  ['never wrote', {}, { state: 'none', allowed: 'free-form', closesAt: null }],
  ['a month ago', { lastCustomerMessageAt: ago(30 * D) }, { state: 'none', allowed: 'free-form', closesAt: null }],
];

describe('session window', () => {
  for (const [provider, cases] of [['twilio-whatsapp', whatsapp], ['facebook', facebook], ['line', line]] as const) {
    for (const [label, over, expected] of cases) {
      it(`${provider}: ${label} → ${expected.allowed}`, () => {
        const window = sessionWindow(input(provider, over));
        assert.equal(window.state, expected.state);
        assert.equal(window.allowed, expected.allowed);
        assert.equal(window.facebookMode, expected.facebookMode);
        if (expected.closesAt !== undefined) assert.deepEqual(window.closesAt, expected.closesAt);
        assert.ok(window.reason.length > 10);
      });
    }
  }

  it('says why a tagged reply is refused when the tag came after the conversation opened', () => {
    const window = sessionWindow(input('facebook', { lastCustomerMessageAt: ago(25 * H), conversationOpenedAt: ago(3 * D), workstream: { facebookHumanAgentTag: true, facebookTagEnabledAt: ago(2 * D) } }));
    assert.match(window.reason, /closed and reopened/);
  });

  it('the answer only ever narrows as time passes (every minute over 8 days)', () => {
    const rank = { 'free-form': 3, tagged: 2, 'template-only': 1, nothing: 0 } as const;
    for (const provider of ['facebook', 'twilio-whatsapp'] as const) {
      let previous = 3;
      for (let t = 0; t <= 8 * D; t += M) {
        const window = sessionWindow(input(provider, { lastCustomerMessageAt: ago(t), workstream: tagOn }));
        assert.ok(rank[window.allowed] <= previous, `${provider} at ${t / M} min widened to ${window.allowed}`);
        previous = rank[window.allowed];
        if (window.closesAt) assert.ok(window.closesAt.getTime() >= now.getTime());
      }
    }
  });

  it('permits free-form text in the open and tagged windows, templates only where templates are allowed', () => {
    const open = sessionWindow(input('twilio-whatsapp', { lastCustomerMessageAt: ago(H) }));
    const closed = sessionWindow(input('twilio-whatsapp', { lastCustomerMessageAt: ago(2 * D) }));
    const tagged = sessionWindow(input('facebook', { lastCustomerMessageAt: ago(2 * D), workstream: tagOn }));
    const nothing = sessionWindow(input('facebook', { lastCustomerMessageAt: ago(9 * D), workstream: tagOn }));
    assert.deepEqual([permits(open, 'free-form'), permits(open, 'template')], [true, true]);
    assert.deepEqual([permits(closed, 'free-form'), permits(closed, 'template')], [false, true]);
    assert.deepEqual([permits(tagged, 'free-form'), permits(tagged, 'template')], [true, false]);
    assert.deepEqual([permits(nothing, 'free-form'), permits(nothing, 'template')], [false, false]);
  });
});
