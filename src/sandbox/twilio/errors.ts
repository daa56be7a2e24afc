import type { Answer } from '../http.ts';

/** Twilio REST error body: the numeric code is what adapters classify on. */
export function twilioError(status: number, code: number, message: string): Answer {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

export const twilioErrors = {
  authenticate: () => twilioError(401, 20003, 'Authenticate'),
  notFound: (path: string) => twilioError(404, 20404, `The requested resource ${path} was not found`),
  tooManyRequests: () => twilioError(429, 20429, 'Too Many Requests'),
  serverError: () => twilioError(500, 20500, 'Internal Server Error'),
  toRequired: () => twilioError(400, 21604, "A 'To' phone number is required."),
  invalidTo: (to: string) => twilioError(400, 21211, `The 'To' number ${to} is not a valid phone number.`),
  fromRequired: () => twilioError(400, 21603, "A 'From' phone number is required."),
  unknownFrom: () => twilioError(400, 63007, 'Twilio could not find a Channel with the specified From address'),
  bodyRequired: () => twilioError(400, 21602, 'Message body is required.'),
  bodyTooLong: () => twilioError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.'),
  invalidMediaUrl: (url: string) => twilioError(400, 21620, `Media URL ${url} is invalid.`),
  invalidContentSid: () => twilioError(400, 21655, 'The ContentSid is Invalid.'),
  invalidContentVariables: () => twilioError(400, 21656, 'The ContentVariables Parameter is invalid.'),
  invalidStatusCallback: () => twilioError(400, 21609, 'Invalid StatusCallback url.'),
};

/** Human text for the asynchronous error codes reported through status callbacks. */
export const ASYNC_ERROR_MESSAGES: Record<string, string> = {
  '63016': 'Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.',
  '63018': 'Rate limit exceeded for Channel',
  '63024': 'Invalid message recipient',
  '30008': 'Unknown error',
};

/** RFC 2822 dates as Twilio writes them (`Thu, 24 Aug 2023 05:01:45 +0000`). */
export function rfc2822(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}
