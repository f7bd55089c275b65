import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createListeningTestApp, type TestApp } from '../support/app.js';
import { securityHeaders, securityHeadersFor } from '#src/http-settings.js';

// What every response must carry, whoever answers it: a route, a page, the problem filter, the
// not-found handler, or the OpenID Provider on the raw response it was handed.
const EVERY_ANSWER: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'cross-origin-resource-policy': 'same-origin',
};

// An answer in a machine format only (OWASP's REST set): a CSP that allows nothing, never framed,
// never stored.
const API_ONLY: Record<string, string> = {
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

// What only a document reads: sent with pages, left off API answers.
const DOCUMENT_ONLY: Record<string, string> = {
  'cross-origin-opener-policy': 'same-origin',
  'origin-agent-cluster': '?1',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "form-action 'self' http: https:",
  "object-src 'none'",
  "frame-ancestors 'self'",
];

describe('security headers, worked out once and sent on every response', () => {
  let t: TestApp;
  let origin: string;
  before(async () => {
    ({ t, origin } = await createListeningTestApp());
  });
  after(async () => t.close());

  it('for documents are helmet’s, with the pages’ script, image and form rules in the CSP', () => {
    const { document } = securityHeaders();
    for (const [name, value] of Object.entries({ ...EVERY_ANSWER, ...DOCUMENT_ONLY }))
      assert.equal(document[name], value, name);
    assert.equal(document['x-frame-options'], 'SAMEORIGIN');
    assert.equal(document['referrer-policy'], 'no-referrer');
    assert.equal(document['cache-control'], undefined, 'a page route decides its own caching');
    const csp = (document['content-security-policy'] ?? '').split(';');
    for (const directive of PAGE_CSP)
      assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp.join(';')}`);
  });

  it('for API answers are exactly OWASP’s REST set', () => {
    assert.deepEqual(securityHeaders().api, { ...EVERY_ANSWER, ...API_ONLY });
  });

  it('are chosen by path: machine formats only, or anything that may be a page', () => {
    const headers = securityHeaders();
    const api = [
      '/api/v1/users/me',
      '/api/v1',
      '/api/v1?x=1',
      '/api/v2/anything',
      '/scim/v2/Users',
      '/health/live',
      '/metrics',
      '/.well-known/jwks.json',
    ];
    const documents = [
      '/',
      '/signin',
      '/console/users',
      '/api/docs/',
      '/api/openapi.json',
      '/apiary',
      '/healthz',
      '/oidc/auth',
      '/oidc/interaction/abc',
      '/no-such-page',
    ];
    for (const url of api) assert.equal(securityHeadersFor(headers, url), headers.api, url);
    for (const url of documents)
      assert.equal(securityHeadersFor(headers, url), headers.document, url);
  });

  // Gatehouse's HTML pages (its own and the provider's) are stricter than helmet's defaults: never
  // framed, and the referrer kept to this origin (so a page's links still work).
  const API_ANSWER = { ...API_ONLY };
  const DOCUMENT = {
    ...DOCUMENT_ONLY,
    'x-frame-options': 'SAMEORIGIN',
    'referrer-policy': 'no-referrer',
  };
  const PAGE = { ...DOCUMENT_ONLY, 'x-frame-options': 'DENY', 'referrer-policy': 'same-origin' };
  const cases: [string, string, number, Record<string, string>][] = [
    ['a health route', '/health/live', 200, API_ANSWER],
    ['an API route refusing the caller (problem+json)', '/api/v1/users/me', 401, API_ANSWER],
    ['an unknown API path (not-found handler)', '/api/v1/no-such-route', 404, API_ANSWER],
    ['a SCIM route refusing the caller', '/scim/v2/Users', 401, API_ANSWER],
    ['the metrics', '/metrics', 200, API_ANSWER],
    ['a discovery document (raw response)', '/.well-known/openid-configuration', 200, API_ANSWER],
    ['a sign-in page', '/signin', 200, PAGE],
    ['an unknown page (HTML 404)', '/no-such-page', 404, PAGE],
    ['the API’s docs (Swagger UI)', '/api/docs/', 200, DOCUMENT],
    ['the provider’s own page (raw response)', '/oidc/auth?client_id=nobody', 400, PAGE],
  ];
  for (const [what, path, status, kind] of cases) {
    it(`are on ${what}`, async () => {
      const res = await fetch(origin + path, { redirect: 'manual' });
      assert.equal(res.status, status, `${path}: ${await res.text()}`);
      for (const [name, value] of Object.entries({ ...EVERY_ANSWER, ...kind })) {
        assert.equal(res.headers.get(name), value, `${path}: ${name}`);
      }
      const csp = res.headers.get('content-security-policy') ?? '';
      if (kind === API_ANSWER) {
        for (const name of [...Object.keys(DOCUMENT_ONLY), 'referrer-policy'])
          assert.equal(res.headers.get(name), null, `${path}: no ${name} on an API answer`);
      } else {
        for (const directive of PAGE_CSP)
          assert.ok(csp.split(';').includes(directive), `${path}: CSP has ${directive}: ${csp}`);
      }
      // Sent once: a second copy (from a hand-over to the raw response) would be joined with ", ".
      assert.ok(!csp.includes(', '), `${path}: one CSP header, not two: ${csp}`);
      assert.match(res.headers.get('x-request-id') ?? '', /^[\w-]{1,64}$/);
    });
  }

  it('leave a route’s own caching alone (the JWKS may be cached by anyone)', async () => {
    const res = await fetch(`${origin}/.well-known/jwks.json`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
    assert.equal(res.headers.get('content-security-policy'), API_ONLY['content-security-policy']);
    const body = (await res.json()) as { keys?: unknown[] };
    assert.ok(Array.isArray(body.keys) && body.keys.length > 0, 'the JWKS lists its keys');
  });
});
