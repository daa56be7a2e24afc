import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.ts';
import { PermanentFailure, RetryLater, type JobHandler } from '../../jobs/runner.ts';
import { ProviderError, type MediaRef, type ProviderAdapter, type ProviderId } from '../../providers/types.ts';
import type { SecretBox } from '../../secrets.ts';
import type { MediaStore } from '../../storage/media-store.ts';
import { channelCredentials, type ChannelDirectory } from '../channels/directory.ts';

/**
 * Fetches a customer's attachment from the provider into Parley's storage (the `media.fetch`
 * job). Only the provider's own hosts are fetched from (SSRF guard); size and type are
 * limited; a failure is retried, and the message itself never depends on it.
 */
export interface MediaPolicy {
  maxBytes: number;
  /** Hosts media may be fetched from, e.g. `*.fbcdn.net`, `api.twilio.com`, `127.0.0.1:4101`. */
  allowedHosts: string[];
  allowedTypes: RegExp;
}

export const DEFAULT_MEDIA_TYPES = /^(image|video|audio)\/[\w.+-]+$|^application\/(pdf|msword|vnd\.openxmlformats-officedocument\.[\w.]+|vnd\.ms-[\w.]+|zip|octet-stream)$|^text\/(plain|vcard|x-vcard|csv)$/;

export function hostAllowed(url: string, allowed: string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return false;
  return allowed.some((pattern) => {
    const [host, port] = pattern.split(':');
    if (port !== undefined && parsed.port !== port) return false;
    if (port === undefined && parsed.port !== '' ) return false;
    return host!.startsWith('*.') ? parsed.hostname.endsWith(host!.slice(1)) : parsed.hostname === host;
  });
}

const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'video/mp4': 'mp4', 'audio/mpeg': 'mp3', 'audio/ogg': 'ogg', 'audio/mp4': 'm4a', 'application/pdf': 'pdf' };

export function createMediaFetcher(deps: {
  db: Kysely<DB>;
  directory: ChannelDirectory;
  adapters: { get(provider: ProviderId): ProviderAdapter };
  secrets: SecretBox;
  store: MediaStore;
  policy: MediaPolicy;
}) {
  const { db } = deps;

  async function fail(attachmentId: string, error: string): Promise<void> {
    await db.updateTable('attachments').set({ state: 'failed', error, updated_at: sql`now()` }).where('id', '=', attachmentId).execute();
  }

  const handler: JobHandler = async (job) => {
    const { attachmentId } = job.payload as { attachmentId: string };
    const row = await db
      .selectFrom('attachments as a')
      .innerJoin('messages as m', 'm.id', 'a.message_id')
      .select(['a.id', 'a.state', 'a.source', 'm.channel_id'])
      .where('a.id', '=', attachmentId)
      .executeTakeFirst();
    if (!row || row.state !== 'pending') return;
    const ref = row.source as unknown as MediaRef;
    if (ref.url && !hostAllowed(ref.url, deps.policy.allowedHosts)) {
      await fail(attachmentId, `not fetched: ${new URL(ref.url).host} is not a host of the provider`);
      return;
    }
    const channel = await deps.directory.byId(row.channel_id);
    if (!channel) return;
    const adapter = deps.adapters.get(channel.provider);
    const lastAttempt = job.attempts >= job.maxAttempts;
    try {
      const media = await adapter.fetchMedia(ref, channelCredentials(channel, deps.secrets) as never);
      if (media.status === 'preparing') throw new RetryLater('the provider is still preparing the content', media.retryAfterMs);
      const contentType = media.contentType.split(';')[0]!.trim().toLowerCase();
      if (!deps.policy.allowedTypes.test(contentType)) return fail(attachmentId, `not kept: files of type ${contentType} are not accepted`);
      if (media.bytes.length > deps.policy.maxBytes) return fail(attachmentId, `not kept: ${media.bytes.length} bytes is over the ${deps.policy.maxBytes}-byte limit`);
      const now = new Date();
      const key = `${now.getUTCFullYear()}/${String(now.getUTCMonth() + 1).padStart(2, '0')}/${attachmentId}.${EXTENSIONS[contentType] ?? 'bin'}`;
      await deps.store.put(key, media.bytes);
      await db
        .updateTable('attachments')
        .set({ state: 'stored', storage_key: key, content_type: contentType, size: media.bytes.length, error: null, updated_at: sql`now()` })
        .where('id', '=', attachmentId)
        .execute();
    } catch (error) {
      const retryable = error instanceof RetryLater || (error instanceof ProviderError && error.retryable) || !(error instanceof ProviderError);
      if (!retryable) return fail(attachmentId, (error as Error).message);
      if (lastAttempt) {
        await fail(attachmentId, `could not be fetched after ${job.attempts} attempts: ${(error as Error).message}`);
        throw new PermanentFailure((error as Error).message);
      }
      throw error;
    }
  };
  return { handler };
}
