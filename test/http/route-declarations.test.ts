import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../support/app.js';
import { describeRoute, nestRoutes, routerRoutes } from '../support/routes.js';

const SNAPSHOT = 'test/route-declarations.snapshot.txt';
// Served by SwaggerModule straight on Fastify, not by a controller.
const SWAGGER = /^\/api\/(docs|openapi\.json)/;

describe('route declarations (every route says who may call it)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('finds every route the server serves among the controller routes', () => {
    const nest = nestRoutes(t.app);
    assert.ok(nest.length > 10, `only ${nest.length} routes found`);
    const unresolved = nest.filter((r) => r.path.startsWith('?'));
    assert.deepEqual(unresolved, [], 'controller routes the router does not serve');
    const known = new Set(nest.map((r) => `${r.method} ${r.path}`));
    const stray = routerRoutes(t.app)
      .filter((r) => !SWAGGER.test(r.path))
      .map((r) => `${r.method} ${r.path}`)
      .filter((k) => !known.has(k));
    assert.deepEqual(stray, [], 'routes served outside any controller');
  });

  it('has a Public or Authenticated declaration on every route', () => {
    const undeclared = nestRoutes(t.app)
      .filter((r) => r.requirement === undefined)
      .map((r) => `${r.method} ${r.path} (${r.handler})`);
    assert.deepEqual(undeclared, []);
  });

  it('matches the reviewed snapshot (a diff here is a permission change)', () => {
    const current = `${nestRoutes(t.app).map(describeRoute).join('\n')}\n`;
    if (process.env.UPDATE_SNAPSHOTS === '1' || !existsSync(SNAPSHOT)) {
      writeFileSync(SNAPSHOT, current);
      if (process.env.UPDATE_SNAPSHOTS !== '1')
        assert.fail(`${SNAPSHOT} was missing: written, review and commit it`);
      return;
    }
    assert.equal(
      current,
      readFileSync(SNAPSHOT, 'utf8'),
      `routes or their declarations changed; review, then rerun with UPDATE_SNAPSHOTS=1`,
    );
  });

  it('describes every route in the served OpenAPI document', async () => {
    const doc = await t.http.get('/api/openapi.json').expect(200);
    const docPaths = doc.body.paths as Record<string, Record<string, unknown>>;
    const missing = nestRoutes(t.app)
      // /scim/v2 is specified by RFC 7643/7644 and describes itself (/Schemas, /ResourceTypes,
      // /ServiceProviderConfig); its errors use the SCIM error schema, not problem+json.
      .filter((r) => !r.path.startsWith('/scim/v2/'))
      // Fastify's wildcard `*` is the document's {path}.
      .map((r) => ({
        ...r,
        openapi: r.path.replace(/[:*](\w+)/g, '{$1}').replace(/\*$/, '{path}'),
      }))
      .filter((r) => !docPaths[r.openapi]?.[r.method.toLowerCase()])
      .map((r) => `${r.method} ${r.openapi}`);
    assert.deepEqual(missing, [], 'routes missing from /api/openapi.json');
  });

  it('serves Swagger UI at /api/docs', async () => {
    const res = await t.http.get('/api/docs/');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'] ?? '', /text\/html/);
    assert.match(res.text, /swagger-ui/);
  });
});
