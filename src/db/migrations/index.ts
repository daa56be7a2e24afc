import type { Migration } from 'kysely/migration';
import * as jobs from './0001_jobs.ts';
import * as users from './0002_users.ts';
import * as channels from './0003_channels.ts';
import * as inbox from './0004_inbox.ts';
import * as conversations from './0005_conversations.ts';
import * as channelStatus from './0006_channel_status.ts';
import * as workstreams from './0007_workstreams.ts';
import * as routing from './0008_routing.ts';
import * as outbound from './0009_outbound.ts';

/** Every migration this version knows, in order. Names never change once released. */
export const migrations: Record<string, Migration> = {
  '0001_jobs': jobs,
  '0002_users': users,
  '0003_channels': channels,
  '0004_inbox': inbox,
  '0005_conversations': conversations,
  '0006_channel_status': channelStatus,
  '0007_workstreams': workstreams,
  '0008_routing': routing,
  '0009_outbound': outbound,
};
