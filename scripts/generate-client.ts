// npm run client:generate: writes clients/typescript/schema.d.ts from the served OpenAPI document.
import { writeFileSync } from 'node:fs';
import {
  CLIENT_SCHEMA_FILE,
  clientSchemaSource,
  servedOpenApiDocument,
} from './lib/client-schema.js';

const source = await clientSchemaSource(await servedOpenApiDocument());
writeFileSync(CLIENT_SCHEMA_FILE, source);
console.log(`wrote ${CLIENT_SCHEMA_FILE} (${source.length} characters)`);
