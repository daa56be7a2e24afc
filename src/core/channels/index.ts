/** What other parts of Parley use from channels (outbound delivery flags channels it could not send through). */
export { markNeedsAttention } from './status.ts';
export { checkChannel, recheckAll, CHANNEL_RECHECK_QUEUE } from './checks.ts';
export { createMessagingAccounts, publicUrlWarnings, type MessagingAccounts } from './messaging-accounts.ts';
