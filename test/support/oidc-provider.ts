import * as client from 'openid-client';
import {
  defaultAccount,
  startLocalOidcProvider,
  type LocalAccount,
  type LocalProvider,
} from '../../scripts/lib/local-oidc-provider.js';

export type { LocalAccount };

/**
 * The real identity provider for tests: npm oidc-provider in-process on loopback (see
 * scripts/lib/local-oidc-provider.ts), with accounts the test controls and a tiny user agent that
 * walks its login form without a browser.
 */
export class TestOidcProvider {
  readonly clientId = 'gatehouse-test';
  readonly clientSecret = 'test-client-secret-0123456789';
  /** Accounts by login; a login not listed is `<login>@example.test`, verified. */
  readonly accounts = new Map<string, LocalAccount>();
  private local: LocalProvider | null = null;

  get issuer(): string {
    if (!this.local) throw new Error('provider not started');
    return this.local.issuer;
  }

  async start(redirectUris: string[]): Promise<void> {
    this.local = await startLocalOidcProvider({
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      redirectUris,
      account: (login) => this.accounts.get(login) ?? defaultAccount(login),
    });
  }

  /** One OIDC_PROVIDERS entry for this provider. */
  providerConfig(
    id: string,
    extra: { name?: string; trustEmailForLinking?: boolean } = {},
  ): Record<string, unknown> {
    return {
      id,
      name: extra.name ?? 'Test IdP',
      issuer: this.issuer,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      ...(extra.trustEmailForLinking !== undefined
        ? { trustEmailForLinking: extra.trustEmailForLinking }
        : {}),
    };
  }

  /**
   * Follows the authorization request through the provider's login form as `login` (any password)
   * and returns the redirect back to the relying party (the URL starting with `stopAt`).
   */
  async authorize(authorizeUrl: string, login: string, stopAt: string): Promise<URL> {
    const jar = new Map<string, string>();
    let url = authorizeUrl;
    let form: URLSearchParams | null = null;
    for (let hop = 0; hop < 12; hop++) {
      if (url.startsWith(stopAt)) return new URL(url);
      const res = await fetch(url, {
        method: form ? 'POST' : 'GET',
        redirect: 'manual',
        headers: {
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ?? undefined,
      });
      for (const c of res.headers.getSetCookie()) {
        const [pair = ''] = c.split(';');
        const eq = pair.indexOf('=');
        const name = pair.slice(0, eq).trim();
        const value = pair.slice(eq + 1).trim();
        if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(name);
        else jar.set(name, value);
      }
      form = null;
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        url = new URL(location, url).href;
        continue;
      }
      const page = await res.text();
      const action = /<form[^>]*action="([^"]+)"[^>]*method="post"/i.exec(page)?.[1];
      if (res.status === 200 && action && page.includes('name="login"')) {
        url = new URL(action.replace(/&amp;/g, '&'), url).href;
        form = new URLSearchParams({ prompt: 'login', login, password: 'any-password' });
        continue;
      }
      throw new Error(
        `unexpected answer from the provider at ${url}: ${res.status} ${page.slice(0, 300)}`,
      );
    }
    throw new Error('too many redirects at the provider');
  }

  /**
   * A real ID token of this provider for `login`, issued to its client (`gatehouse-test`): the code
   * flow with PKCE through its login form to `redirectUri` (one registered at start), then its
   * token endpoint (openid-client).
   */
  async idToken(login: string, redirectUri: string): Promise<string> {
    const config = await client.discovery(
      new URL(this.issuer),
      this.clientId,
      undefined,
      client.ClientSecretBasic(this.clientSecret),
      { execute: [client.allowInsecureRequests] },
    );
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    const back = await this.authorize(url.href, login, redirectUri);
    const tokens = await client.authorizationCodeGrant(config, back, {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    if (!tokens.id_token) throw new Error('the provider returned no ID token');
    return tokens.id_token;
  }

  async stop(): Promise<void> {
    await this.local?.stop();
  }
}
