import type { Capabilities, ProviderId } from '../../providers/types.ts';

/**
 * "May we write to this customer now, and how?" — one pure function of the provider's
 * capabilities, the workstream's settings, the customer's latest message, who is writing and
 * the time. Nothing else decides it: the API shows its answer before the agent types, sending
 * refuses what it does not allow, and delivery asks it again right before the provider call.
 */
export type SenderKind = 'agent' | 'bot' | 'system';

export interface SessionWindowInput {
  capabilities: Pick<Capabilities, 'windowHours' | 'humanAgentTagHours' | 'templatesOutsideWindow'>;
  provider: ProviderId;
  lastCustomerMessageAt: Date | null;
  conversationOpenedAt: Date;
  workstream: { facebookHumanAgentTag: boolean; facebookTagEnabledAt: Date | null } | null;
  sender: SenderKind;
  now: Date;
}

export type WindowState = 'open' | 'closed' | 'none';
export type Allowed = 'free-form' | 'tagged' | 'template-only' | 'nothing';

export interface SessionWindow {
  /** `none`: the provider has no messaging window (LINE). */
  state: WindowState;
  /** When what is allowed now stops being allowed (null: no deadline, or nothing allowed). */
  closesAt: Date | null;
  allowed: Allowed;
  /** Facebook: how the message must be sent. */
  facebookMode?: 'RESPONSE' | 'HUMAN_AGENT';
  /** Why, in words an agent understands. */
  reason: string;
}

const HOUR_MS = 3_600_000;

function hoursText(hours: number): string {
  return hours % 24 === 0 ? `${hours / 24} day${hours === 24 ? '' : 's'}` : `${hours} hours`;
}

/** Whether the HUMAN_AGENT tag applies to this conversation: on, and turned on before the conversation opened. */
function tagApplies(input: SessionWindowInput): boolean {
  const ws = input.workstream;
  if (!ws?.facebookHumanAgentTag || !ws.facebookTagEnabledAt) return false;
  return ws.facebookTagEnabledAt.getTime() <= input.conversationOpenedAt.getTime();
}

export function sessionWindow(input: SessionWindowInput): SessionWindow {
  const { capabilities, lastCustomerMessageAt, now } = input;
  if (capabilities.windowHours === null) {
    return { state: 'none', closesAt: null, allowed: 'free-form', reason: 'This channel has no messaging window: messages can be sent at any time.' };
  }
  const windowText = hoursText(capabilities.windowHours);
  const outside = (reason: string): SessionWindow =>
    capabilities.templatesOutsideWindow
      ? { state: 'closed', closesAt: null, allowed: 'template-only', reason: `${reason} Only approved templates can be sent until the customer writes again.` }
      : { state: 'closed', closesAt: null, allowed: 'nothing', reason: `${reason} Nothing can be sent until the customer writes again.` };

  if (!lastCustomerMessageAt) return outside('The customer has not written in this conversation.');
  const age = now.getTime() - lastCustomerMessageAt.getTime();
  const closesAt = new Date(lastCustomerMessageAt.getTime() + capabilities.windowHours * HOUR_MS);
  // the provider counts the last instant as inside: a reply at exactly 24:00:00 is accepted
  if (age <= capabilities.windowHours * HOUR_MS) {
    return {
      state: 'open',
      closesAt,
      allowed: 'free-form',
      ...(input.provider === 'facebook' ? { facebookMode: 'RESPONSE' as const } : {}),
      reason: `Within ${windowText} of the customer's latest message.`,
    };
  }
  const closed = `More than ${windowText} have passed since the customer's latest message.`;
  const tagHours = capabilities.humanAgentTagHours;
  if (input.provider === 'facebook' && tagHours !== undefined) {
    const tagClosesAt = new Date(lastCustomerMessageAt.getTime() + tagHours * HOUR_MS);
    const withinTag = age <= tagHours * HOUR_MS;
    if (withinTag && input.sender !== 'agent') return outside(`${closed} Only a human agent may reply later (with the human-agent tag).`);
    if (withinTag && tagApplies(input)) {
      return {
        state: 'closed',
        closesAt: tagClosesAt,
        allowed: 'tagged',
        facebookMode: 'HUMAN_AGENT',
        reason: `${closed} A human agent may still reply with the human-agent tag until ${hoursText(tagHours)} after it.`,
      };
    }
    if (withinTag && input.workstream?.facebookHumanAgentTag) {
      return outside(`${closed} The human-agent tag was turned on after this conversation opened; it applies once the conversation is closed and reopened.`);
    }
    if (withinTag) return outside(`${closed} The workstream's Facebook human-agent tag is off.`);
    return outside(`More than ${hoursText(tagHours)} have passed since the customer's latest message.`);
  }
  return outside(closed);
}

/** What a message needs from the window: free text/media, or an approved template. */
export type SendKind = 'free-form' | 'template';

export function permits(window: SessionWindow, kind: SendKind): boolean {
  if (kind === 'template') return window.allowed === 'free-form' || window.allowed === 'template-only';
  return window.allowed === 'free-form' || window.allowed === 'tagged';
}
