import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type JWK,
  type JWTPayload,
  type CryptoKey,
} from 'jose';

/**
 * A small OpenID Connect provider on loopback, signing with jose: discovery, JWKS, and a token
 * endpoint whose behaviour each test chooses. Used where the real oidc-provider cannot be made to
 * misbehave (bad signatures, wrong issuer, a hanging token endpoint) and for token exchange.
 */
export class FakeIdp {
  private server: Server | null = null;
  issuer = '';
  private privateKey!: CryptoKey;
  private publicJwk!: JWK;
  readonly kid = 'fake-key-1';
  /** What the token endpoint does: answer with `nextIdToken`, fail with 503, or never answer. */
  tokenEndpointMode: 'ok' | 'down' | 'hang' | 'garbage' | 'refuse' = 'ok';
  /** The ID token the token endpoint returns next (tests set it per case). */
  nextIdToken: string | null = null;
  /** ID tokens by authorization code (for concurrent flows); falls back to `nextIdToken`. */
  readonly idTokensByCode = new Map<string, string>();
  /** Extra or replacing fields of the next token response (e.g. a non-string id_token). */
  tokenResponseOverride: Record<string, unknown> | null = null;
  /** Override the issuer the discovery document claims (for the issuer-mismatch case). */
  discoveryIssuer: string | null = null;
  readonly tokenRequests: Record<string, string>[] = [];
  private hanging: ServerResponse[] = [];

  async start(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    this.privateKey = privateKey;
    this.publicJwk = { ...(await exportJWK(publicKey)), kid: this.kid, alg: 'ES256', use: 'sig' };
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.issuer);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer: this.discoveryIssuer ?? this.issuer,
        authorization_endpoint: `${this.issuer}/authorize`,
        token_endpoint: `${this.issuer}/token`,
        jwks_uri: `${this.issuer}/jwks`,
        userinfo_endpoint: `${this.issuer}/userinfo`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (url.pathname === '/jwks') return json(200, { keys: [this.publicJwk] });
    if (url.pathname === '/token' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      this.tokenRequests.push(
        Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
      );
      if (this.tokenEndpointMode === 'hang') {
        this.hanging.push(res);
        return;
      }
      if (this.tokenEndpointMode === 'down') return json(503, { error: 'temporarily_unavailable' });
      if (this.tokenEndpointMode === 'refuse')
        return json(400, { error: 'invalid_grant', error_description: '<b>code used</b>' });
      if (this.tokenEndpointMode === 'garbage') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>not json</html>');
        return;
      }
      const code = this.tokenRequests[this.tokenRequests.length - 1]?.['code'] ?? '';
      return json(200, {
        access_token: 'fake-access-token',
        token_type: 'Bearer',
        expires_in: 300,
        id_token: this.idTokensByCode.get(code) ?? this.nextIdToken,
        ...(this.tokenResponseOverride ?? {}),
      });
    }
    if (url.pathname === '/userinfo')
      return json(200, { sub: 'userinfo-subject-that-must-be-ignored' });
    json(404, { error: 'not_found' });
  }

  /** An ID token signed by this provider; claims default to a valid token for `audience`. */
  async sign(
    audience: string,
    claims: JWTPayload & { email?: string; email_verified?: unknown; nonce?: string },
    opts: { expiresIn?: string | number; issuedAt?: number; issuer?: string } = {},
  ): Promise<string> {
    const jwt = new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: this.kid })
      .setIssuer(opts.issuer ?? this.issuer)
      .setAudience(claims.aud ?? audience)
      .setIssuedAt(opts.issuedAt)
      .setExpirationTime(opts.expiresIn ?? '5m');
    if (claims.sub) jwt.setSubject(claims.sub);
    return jwt.sign(this.privateKey);
  }

  /** An unsigned token (`alg: none`), which must always be refused. */
  unsigned(audience: string, claims: JWTPayload): string {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ iss: this.issuer, aud: audience, iat: now, exp: now + 300, ...claims })}.`;
  }

  async stop(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.hanging = [];
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
