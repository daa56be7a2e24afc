import type { Answer } from '../http.ts';

export interface LineDetail {
  message: string;
  property: string;
}

export function lineError(status: number, message: string, extra: Record<string, unknown> = {}): Answer {
  return { status, body: { message, ...extra } };
}

export const lineErrors = {
  missingAuth: () => lineError(401, "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'"),
  invalidToken: () =>
    lineError(401, 'Authentication failed due to the following reason: invalid token. Confirm that the access token in the authorization header is valid.'),
  expiredToken: () =>
    lineError(401, 'Authentication failed due to the following reason: expired token. Confirm that the access token in the authorization header is valid.'),
  rateLimit: () => lineError(429, 'The API rate limit has been exceeded. Try again later.'),
  monthlyLimit: () => lineError(429, 'You have reached your monthly limit.'),
  serverError: () => lineError(500, 'An error occurred in the backend. Try again later.'),
  invalidBody: (details: LineDetail[]) => lineError(400, `The request body has ${details.length} error(s)`, { details }),
  invalidReplyToken: () => lineError(400, 'Invalid reply token'),
  invalidTo: () => lineError(400, "The property, 'to', in the request body is invalid (line: -, column: -)"),
  retryKeyNotSupported: () => lineError(400, 'The retry key is not supported for this API'),
  invalidRetryKey: () => lineError(400, 'The value of the X-Line-Retry-Key header is invalid'),
  invalidEndpoint: () => lineError(400, 'Invalid webhook endpoint URL'),
  notFound: () => lineError(404, 'Not found'),
};

const MESSAGE_TYPES = ['text', 'textV2', 'image', 'video', 'audio', 'location', 'sticker', 'imagemap', 'template', 'flex'];
const HTTPS_URL = /^https:\/\/\S{1,1990}$/;

/** Validates the `messages` array of reply/push the way LINE reports it (property paths + messages). */
export function validateMessages(messages: unknown): LineDetail[] {
  if (!Array.isArray(messages)) return [{ message: 'must be specified', property: 'messages' }];
  if (messages.length < 1 || messages.length > 5) return [{ message: 'Size must be between 1 and 5', property: 'messages' }];
  const details: LineDetail[] = [];
  messages.forEach((message: unknown, index) => {
    const at = (field: string) => `messages[${index}]${field ? '.' + field : ''}`;
    if (typeof message !== 'object' || message === null) {
      details.push({ message: 'must be an object', property: at('') });
      return;
    }
    const m = message as Record<string, unknown>;
    const requireString = (field: string) => {
      if (typeof m[field] !== 'string' || m[field] === '') details.push({ message: 'May not be empty', property: at(field) });
    };
    const requireHttps = (field: string) => {
      if (typeof m[field] !== 'string' || m[field] === '') details.push({ message: 'May not be empty', property: at(field) });
      else if (!HTTPS_URL.test(m[field])) details.push({ message: 'Must be a valid HTTPS URL', property: at(field) });
    };
    if (!MESSAGE_TYPES.includes(String(m.type))) {
      details.push({ message: `Must be one of the following values: [${MESSAGE_TYPES.join(', ')}]`, property: at('type') });
      return;
    }
    switch (m.type) {
      case 'text':
      case 'textV2':
        requireString('text');
        if (typeof m.text === 'string' && m.text.length > 5000) details.push({ message: 'Length must be between 0 and 5000', property: at('text') });
        break;
      case 'image':
      case 'video':
        requireHttps('originalContentUrl');
        requireHttps('previewImageUrl');
        break;
      case 'audio':
        requireHttps('originalContentUrl');
        if (typeof m.duration !== 'number') details.push({ message: 'May not be empty', property: at('duration') });
        break;
      case 'location':
        requireString('title');
        requireString('address');
        if (typeof m.latitude !== 'number') details.push({ message: 'May not be empty', property: at('latitude') });
        if (typeof m.longitude !== 'number') details.push({ message: 'May not be empty', property: at('longitude') });
        break;
      case 'sticker':
        requireString('packageId');
        requireString('stickerId');
        break;
      default:
        requireString('altText');
    }
  });
  return details;
}
