import { bearerAuthorization, httpCall, joinUrl, type HttpAnswer } from '../http.ts';
import type { ResolvedOptions } from '../options.ts';
import type { LineCredentials, ProviderEndpoints } from '../types.ts';

export interface LineRequest {
  /** Content lives on the data host (api-data.line.me), everything else on the api host. */
  host?: 'api' | 'data';
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  json?: unknown;
  headers?: Record<string, string>;
  /** Media downloads: bounded size and the longer deadline. */
  media?: boolean;
}

/** Calls the Messaging API with the channel access token; the caller reads the status (202, 409 mean something). */
export type LineApi = (credentials: LineCredentials, request: LineRequest) => Promise<HttpAnswer>;

export function createLineApi(endpoints: ProviderEndpoints, options: ResolvedOptions): LineApi {
  return (credentials, request) =>
    httpCall('line', {
      method: request.method,
      url: joinUrl(request.host === 'data' ? endpoints.lineData : endpoints.lineApi, request.path),
      headers: { authorization: bearerAuthorization(credentials.channelAccessToken), ...request.headers },
      ...(request.json !== undefined ? { json: request.json } : {}),
      timeoutMs: request.media ? options.mediaTimeoutMs : options.timeoutMs,
      ...(request.media ? { maxBytes: options.maxMediaBytes } : {}),
    });
}
