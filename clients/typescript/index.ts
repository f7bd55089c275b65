// The Gatehouse API client: openapi-fetch over the types generated from the OpenAPI document.
// See docs/api-clients.md.
import createClient, { type Client, type ClientOptions } from 'openapi-fetch';
import type { components, operations, paths } from './schema.js';

export type { components, operations, paths };
export type GatehouseClient = Client<paths>;
/** A schema of the document by name, e.g. `Schema<'UserResponse'>`. */
export type Schema<N extends keyof components['schemas']> = components['schemas'][N];

export interface GatehouseClientOptions extends Omit<ClientOptions, 'baseUrl'> {
  /** Where Gatehouse is served (its `PUBLIC_URL`); `''` for the same origin in a browser. */
  baseUrl?: string;
  /** An API key, session token or access token; without it the browser's session cookie is used. */
  token?: string;
}

/**
 * A typed client of `/api/v1`. In a browser on Gatehouse's own origin (the console) it sends the
 * session cookie; elsewhere pass `token`.
 */
export function createGatehouseClient(options: GatehouseClientOptions = {}): GatehouseClient {
  const { baseUrl = '', token, headers, ...rest } = options;
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    credentials: 'same-origin',
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(headers as Record<string, string> | undefined),
    },
    ...rest,
  });
}
