import { createHash } from 'node:crypto';
import { fromBase64, fromHex, headerValue, hmac, sameBytes } from '../signing.ts';
import type { RawWebhook, TwilioCredentials } from '../types.ts';

/**
 * `X-Twilio-Signature`: base64 HMAC-SHA1 (auth token) of the exact URL Twilio called followed by
 * every POST parameter, sorted by name, as name+value with decoded values. JSON webhooks instead
 * sign the URL alone and carry the body's SHA-256 in its `bodySHA256` query parameter.
 */
export function verifyTwilioSignature(webhook: RawWebhook, credentials: TwilioCredentials): boolean {
  const header = headerValue(webhook.headers, 'x-twilio-signature');
  const presented = header ? fromBase64(header) : undefined;
  if (!presented || !credentials.authToken) return false;
  let bodyHash: string | null;
  try {
    bodyHash = new URL(webhook.url).searchParams.get('bodySHA256');
  } catch {
    return false;
  }
  const params = bodyHash !== null || webhook.method.toUpperCase() === 'GET' ? '' : sortedParams(new URLSearchParams(webhook.body.toString('utf8')));
  const signed = urlSpellings(webhook.url).some((url) => sameBytes(hmac('sha1', credentials.authToken, url + params), presented));
  if (!signed) return false;
  if (bodyHash === null) return true;
  const expected = fromHex(bodyHash);
  return expected !== undefined && sameBytes(createHash('sha256').update(webhook.body).digest(), expected);
}

/** Repeated names contribute each distinct value, values sorted too (as Twilio's SDK does). */
function sortedParams(form: URLSearchParams): string {
  const grouped = new Map<string, Set<string>>();
  for (const [name, value] of form) {
    const values = grouped.get(name) ?? new Set<string>();
    values.add(value);
    grouped.set(name, values);
  }
  let data = '';
  for (const name of [...grouped.keys()].sort(byCodeUnit)) {
    for (const value of [...grouped.get(name)!].sort(byCodeUnit)) data += name + value;
  }
  return data;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Twilio may sign the URL with or without the scheme's default port, whichever way it was
 * configured; both spellings are tried. The URL is edited as text so nothing else in it changes.
 */
export function urlSpellings(url: string): string[] {
  const match = /^(https?):\/\/([^/?#]*)(.*)$/is.exec(url);
  if (!match) return [url];
  const [, scheme = '', authority = '', rest = ''] = match;
  const port = scheme.toLowerCase() === 'https' ? '443' : '80';
  const at = authority.lastIndexOf('@');
  const userinfo = authority.slice(0, at + 1);
  const hostPort = authority.slice(at + 1);
  const hasPort = /:\d+$/.test(hostPort);
  const spellings = [url];
  if (hostPort.endsWith(`:${port}`)) spellings.push(`${scheme}://${userinfo}${hostPort.slice(0, -port.length - 1)}${rest}`);
  else if (!hasPort) spellings.push(`${scheme}://${userinfo}${hostPort}:${port}${rest}`);
  return spellings;
}
