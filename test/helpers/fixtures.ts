import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Signed provider payloads kept in test/fixtures/<provider>/<event>.json, one per event kind. */
export interface Fixture {
  file: string;
  provider: string;
  event: string;
  secret: string;
  url?: string;
  headers: Record<string, string>;
  rawBody: string;
  payload: unknown;
}

const root = join(import.meta.dirname, '..', 'fixtures');

/** The fixtures of one provider, by event name. */
export async function loadFixtures(provider: 'facebook' | 'twilio' | 'line'): Promise<Map<string, Fixture>> {
  const files = (await readdir(join(root, provider))).filter((f) => f.endsWith('.json')).sort();
  const out = new Map<string, Fixture>();
  for (const file of files) out.set(file.replace(/\.json$/, ''), { file, ...JSON.parse(await readFile(join(root, provider, file), 'utf8')) });
  return out;
}
