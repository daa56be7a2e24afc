import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.ts';
import type { JobHandler } from '../../jobs/runner.ts';
import { ProviderError, type ProviderAdapter, type ProviderId } from '../../providers/types.ts';
import type { SecretBox } from '../../secrets.ts';
import { channelCredentials, type ChannelDirectory } from '../channels/directory.ts';

/**
 * Fills in a social profile's display name and avatar from the provider (the `profile.fetch`
 * job) where the provider allows it. A refusal (no permission, no profile) is remembered and
 * tolerated: the customer stays known by their id.
 */
export function createProfileFetcher(deps: {
  db: Kysely<DB>;
  directory: ChannelDirectory;
  adapters: { get(provider: ProviderId): ProviderAdapter };
  secrets: SecretBox;
}) {
  const handler: JobHandler = async (job) => {
    const { profileId } = job.payload as { profileId: string };
    const profile = await deps.db.selectFrom('social_profiles').select(['id', 'channel_id', 'provider_user_id']).where('id', '=', profileId).executeTakeFirst();
    if (!profile) return;
    const channel = await deps.directory.byId(profile.channel_id);
    if (!channel || channel.deleted) return;
    try {
      const found = await deps.adapters.get(channel.provider).fetchProfile(profile.provider_user_id, channelCredentials(channel, deps.secrets) as never);
      await deps.db
        .updateTable('social_profiles')
        .set({
          ...(found?.displayName ? { display_name: found.displayName } : {}),
          ...(found?.avatarUrl ? { avatar_url: found.avatarUrl } : {}),
          ...(found?.locale ? { locale: found.locale } : {}),
          profile_checked_at: sql`now()`,
          updated_at: sql`now()`,
        })
        .where('id', '=', profileId)
        .execute();
    } catch (error) {
      if (error instanceof ProviderError && !error.retryable) {
        await deps.db.updateTable('social_profiles').set({ profile_checked_at: sql`now()` }).where('id', '=', profileId).execute();
        return;
      }
      throw error;
    }
  };
  return { handler };
}
