import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  CLIENT_SCHEMA_FILE,
  clientSchemaSource,
  servedOpenApiDocument,
} from '../../scripts/lib/client-schema.js';

describe('generated TypeScript client', () => {
  it('matches what the served OpenAPI document produces (else: npm run client:generate)', async () => {
    const expected = await clientSchemaSource(await servedOpenApiDocument());
    const committed = readFileSync(CLIENT_SCHEMA_FILE, 'utf8');
    assert.ok(committed.includes('"/api/v1/users"'), 'the committed file describes the API');
    assert.equal(
      committed,
      expected,
      `${CLIENT_SCHEMA_FILE} is stale: run npm run client:generate and commit it`,
    );
  });
});
