import Provider, { type Account, type ProviderContext } from 'oidc-provider';
import { exportJWK, generateKeyPair } from 'jose';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the provider says about an account (email_verified is passed through as given). */
export interface LocalAccount {
  email?: string;
  email_verified?: unknown;
  name?: string;
}

export interface LocalProviderOptions {
  port?: number;
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** The account behind a login; by default `<login>@example.test`, verified. */
  account?: (login: string) => LocalAccount;
}

export interface LocalProvider {
  issuer: string;
  provider: Provider;
  stop(): Promise<void>;
}

export function defaultAccount(login: string): LocalAccount {
  const email = login.includes('@') ? login : `${login}@example.test`;
  return { email, email_verified: true, name: login.split('@')[0] };
}

/**
 * A real OpenID Connect provider (npm oidc-provider) on 127.0.0.1: one confidential client
 * (client_secret_basic, PKCE required), email and name in the ID token, and its development
 * login form, which accepts any login (it becomes the subject) and any password. Consent is
 * granted automatically for the one client.
 */
export async function startLocalOidcProvider(opts: LocalProviderOptions): Promise<LocalProvider> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'local-1', alg: 'RS256', use: 'sig' };
  const account = opts.account ?? defaultAccount;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: opts.clientId,
        client_secret: opts.clientSecret,
        redirect_uris: opts.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // Otherwise the scope-requested claims go only to UserInfo, never into the ID token.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    findAccount: (_ctx: unknown, sub: string): Account => ({
      accountId: sub,
      claims: () => {
        const a = account(sub);
        const claims: Record<string, unknown> = { sub };
        if (a.email !== undefined) claims['email'] = a.email;
        if (a.email_verified !== undefined) claims['email_verified'] = a.email_verified;
        if (a.name !== undefined) claims['name'] = a.name;
        return { ...claims, sub };
      },
    }),
    // First-party client: consent is implied, so the only interaction is the login form.
    loadExistingGrant: async (ctx: ProviderContext) => {
      const clientId = ctx.oidc.client?.clientId;
      const accountId = ctx.oidc.session?.accountId;
      if (!clientId || !accountId) return undefined;
      const existing = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId, accountId });
      grant.addOIDCScope('openid email profile');
      grant.addOIDCClaims(['email', 'email_verified', 'name']);
      await grant.save();
      return grant;
    },
  });
  server.on('request', provider.callback());
  return {
    issuer,
    provider,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
