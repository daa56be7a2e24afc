import type { Answer } from '../http.ts';
import { fbtraceId } from '../ids.ts';

/** Graph API error envelope, with the codes Parley's adapter must tell apart. */
export function graphError(status: number, code: number, message: string, subcode?: number, type = 'OAuthException'): Answer {
  return {
    status,
    headers: { 'www-authenticate': `OAuth "Facebook Platform" "${code === 190 ? 'invalid_token' : 'invalid_request'}" "${message.replace(/"/g, "'")}"` },
    body: {
      error: {
        message,
        type,
        code,
        ...(subcode !== undefined ? { error_subcode: subcode } : {}),
        fbtrace_id: fbtraceId(),
      },
    },
  };
}

export const graphErrors = {
  missingToken: () => graphError(400, 2500, 'An active access token must be used to query information about the current user.'),
  invalidToken: () => graphError(400, 190, 'Invalid OAuth access token - Cannot parse access token'),
  expiredToken: (nowMs: number) =>
    graphError(
      400,
      190,
      `Error validating access token: Session has expired on ${graphDate(nowMs - 3_600_000)}. The current time is ${graphDate(nowMs)}.`,
      463,
    ),
  outsideWindow: () => graphError(400, 10, '(#10) This message is sent outside of allowed window.', 2018278),
  pageRateLimit: () => graphError(400, 613, '(#613) Calls to this api have exceeded the rate limit.'),
  appRateLimit: () => graphError(400, 4, '(#4) Application request limit reached'),
  serverError: () => graphError(500, 1, 'An unknown error occurred', undefined, 'OAuthException'),
  param: (message: string, subcode?: number) => graphError(400, 100, `(#100) ${message}`, subcode),
  unsupported: (method: string, id: string) =>
    graphError(
      400,
      100,
      `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
      33,
      'GraphMethodException',
    ),
  unknownPath: (path: string) => graphError(400, 2500, `Unknown path components: ${path}`),
  threadOwnedElsewhere: () => graphError(400, 10, '(#10) Another app controls this thread. Your app cannot send messages or take actions in it.', 2018300),
  noMatchingUser: () => graphError(400, 100, '(#100) No matching user found', 2018001),
};

function graphDate(ms: number): string {
  const d = new Date(ms);
  const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${pad(d.getUTCDate())}-${months[d.getUTCMonth()]}-${String(d.getUTCFullYear()).slice(2)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}
