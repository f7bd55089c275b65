import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createListeningTestApp, type TestApp } from '../support/app.js';
import { securityHeaders } from '#src/http-settings.js';

// What every response must carry, whoever answers it: a route, a page, the problem filter, the
// not-found handler, or the OpenID Provider on the raw response it was handed.
const EXPECTED: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'x-permitted-cross-domain-policies': 'none',
};

describe('security headers, worked out once and sent on every response', () => {
  let t: TestApp;
  let origin: string;
  before(async () => {
    ({ t, origin } = await createListeningTestApp());
  });
  after(async () => t.close());

  it('are helmet’s, with the pages’ script, image and form rules in the CSP', () => {
    const h = securityHeaders();
    for (const [name, value] of Object.entries(EXPECTED)) assert.equal(h[name], value, name);
    assert.equal(h['x-frame-options'], 'SAMEORIGIN');
    assert.equal(h['referrer-policy'], 'no-referrer');
    const csp = (h['content-security-policy'] ?? '').split(';');
    for (const directive of [
      "default-src 'self'",
      "script-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "form-action 'self' http: https:",
      "object-src 'none'",
      "frame-ancestors 'self'",
    ])
      assert.ok(csp.includes(directive), `CSP has ${directive}: ${csp.join(';')}`);
  });

  // Gatehouse's HTML pages (its own and the provider's) are stricter: never framed, and the referrer
  // kept to this origin (so a page's links still work); anything else helmet's defaults.
  const API_ANSWER = { 'x-frame-options': 'SAMEORIGIN', 'referrer-policy': 'no-referrer' };
  const PAGE = { 'x-frame-options': 'DENY', 'referrer-policy': 'same-origin' };
  const cases: [string, string, number, Record<string, string>][] = [
    ['an API route', '/health/live', 200, API_ANSWER],
    ['an API route refusing the caller (problem+json)', '/api/v1/users/me', 401, API_ANSWER],
    ['an unknown path (not-found handler)', '/api/v1/no-such-route', 404, API_ANSWER],
    ['a sign-in page', '/signin', 200, PAGE],
    ['a discovery document', '/.well-known/openid-configuration', 200, API_ANSWER],
    ['the provider’s own page (raw response)', '/oidc/auth?client_id=nobody', 400, PAGE],
  ];
  for (const [what, path, status, kind] of cases) {
    it(`are on ${what}`, async () => {
      const res = await fetch(origin + path, { redirect: 'manual' });
      assert.equal(res.status, status, `${path}: ${await res.text()}`);
      for (const [name, value] of Object.entries(EXPECTED)) {
        assert.equal(res.headers.get(name), value, `${path}: ${name}`);
      }
      for (const [name, value] of Object.entries(kind)) {
        assert.equal(res.headers.get(name), value, `${path}: ${name}`);
      }
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.ok(csp.includes("script-src 'self' 'unsafe-inline'"), `${path}: CSP ${csp}`);
      // Sent once: a second copy (from a hand-over to the raw response) would be joined with ", ".
      assert.ok(!csp.includes(', '), `${path}: one CSP header, not two: ${csp}`);
      assert.match(res.headers.get('x-request-id') ?? '', /^[\w-]{1,64}$/);
    });
  }
});
