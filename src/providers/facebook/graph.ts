import { httpCall, isSuccess, joinUrl } from '../http.ts';
import type { ResolvedOptions } from '../options.ts';
import type { ProviderEndpoints } from '../types.ts';
import { parseJson } from '../values.ts';
import { graphError } from './errors.ts';

export interface GraphRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Path after the version, e.g. `/me` or `/{page-id}/messages`. */
  path: string;
  accessToken: string;
  query?: Record<string, string>;
  json?: unknown;
}

/** Calls the versioned Graph API; a non-2xx answer becomes a classified ProviderError. */
export type Graph = (request: GraphRequest) => Promise<unknown>;

export function createGraph(endpoints: ProviderEndpoints, options: ResolvedOptions): Graph {
  return async (request) => {
    const url = joinUrl(endpoints.facebookGraph, `/${endpoints.facebookGraphVersion}${request.path}`, {
      ...request.query,
      access_token: request.accessToken,
    });
    const answer = await httpCall('facebook', { method: request.method, url, json: request.json, timeoutMs: options.timeoutMs });
    if (!isSuccess(answer)) throw graphError(answer);
    return parseJson(answer.body);
  };
}
