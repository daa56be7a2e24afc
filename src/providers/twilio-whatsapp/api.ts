import { basicAuthorization, httpCall, isSuccess, joinUrl } from '../http.ts';
import type { ResolvedOptions } from '../options.ts';
import type { ProviderEndpoints, TwilioCredentials } from '../types.ts';
import { parseJson } from '../values.ts';
import { twilioError } from './errors.ts';

export interface TwilioRequest {
  method: 'GET' | 'POST';
  /** Path under the account, e.g. `/Messages.json`, or '' for the account itself. */
  path: string;
  form?: URLSearchParams;
}

/** Calls the 2010-04-01 REST API of the credentials' account with Basic auth. */
export type TwilioApi = (credentials: TwilioCredentials, request: TwilioRequest) => Promise<unknown>;

export function createTwilioApi(endpoints: ProviderEndpoints, options: ResolvedOptions): TwilioApi {
  return async (credentials, request) => {
    const account = encodeURIComponent(credentials.accountSid);
    const path = request.path === '' ? `/2010-04-01/Accounts/${account}.json` : `/2010-04-01/Accounts/${account}${request.path}`;
    const answer = await httpCall('twilio-whatsapp', {
      method: request.method,
      url: joinUrl(endpoints.twilioApi, path),
      headers: { authorization: basicAuthorization(credentials.accountSid, credentials.authToken), accept: 'application/json' },
      ...(request.form ? { form: request.form } : {}),
      timeoutMs: options.timeoutMs,
    });
    if (!isSuccess(answer)) throw twilioError(answer);
    return parseJson(answer.body);
  };
}
