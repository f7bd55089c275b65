import * as client from 'openid-client';

/**
 * A tiny user agent for the OpenID Provider's browser steps without a browser: follows redirects
 * with a cookie jar until a URL starting with `stopAt` (the client's redirect URI).
 */
export class CookieAgent {
  readonly jar = new Map<string, string>();

  constructor(readonly origin: string) {}

  setCookie(name: string, value: string): void {
    this.jar.set(name, value);
  }

  private header(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private store(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.jar.size) headers.set('cookie', this.header());
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    this.store(res);
    return res;
  }

  /**
   * Starts an authorization code request with PKCE (S256) and a state at the client's redirect URI
   * and follows it; `params` add to or replace the request's (scope defaults to `openid`).
   */
  async authorize(
    config: client.Configuration,
    redirectUri: string,
    params: Record<string, string> = {},
    verifier = client.randomPKCECodeVerifier(),
  ): Promise<{ url: URL; res: Response; verifier: string; state: string }> {
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...params,
    });
    return { ...(await this.follow(url.href, redirectUri)), verifier, state };
  }

  /** GETs `url` and follows redirects; returns the first URL starting with stopAt, or the last response. */
  async follow(url: string, stopAt: string, max = 10): Promise<{ url: URL; res: Response }> {
    let next = url;
    for (let i = 0; i < max; i++) {
      if (next.startsWith(stopAt)) return { url: new URL(next), res: new Response(null) };
      const res = await this.request(next);
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) return { url: new URL(next), res };
      next = new URL(location, next).href;
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** Posts a same-origin form (as our pages' forms are) and follows the redirects. */
  async submit(
    action: string,
    fields: Record<string, string>,
    stopAt: string,
  ): Promise<{ url: URL; res: Response }> {
    const res = await this.request(new URL(action, this.origin).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.origin },
      body: new URLSearchParams(fields).toString(),
    });
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location)
      return { url: new URL(action, this.origin), res };
    return this.follow(
      new URL(location, action.startsWith('http') ? action : this.origin).href,
      stopAt,
    );
  }
}
