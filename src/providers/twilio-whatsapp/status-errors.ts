/** Words for the asynchronous error codes a status callback may carry without an ErrorMessage. */
export const ASYNC_ERROR_TEXT: Record<string, string> = {
  '63016': 'Outside the 24-hour WhatsApp window: only an approved template can be sent',
  '63018': 'Rate limit exceeded for the WhatsApp sender',
  '63024': 'Invalid message recipient',
  '30008': 'Unknown error',
};
