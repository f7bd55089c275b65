import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** Set on @Public() routes; turned into `security: []` (no credential needed) in the document. */
export const PUBLIC_EXTENSION = 'x-gatehouse-public';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The served contract (GET /api/openapi.json), from the controllers' declarations. */
export function createOpenApiDocument(app: INestApplication, publicUrl: string): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Gatehouse')
      .setDescription(
        'Identity and access service: accounts, sign-in, credentials, workspaces, groups, projects and permissions.',
      )
      .setVersion('1')
      .addServer(publicUrl)
      .addBearerAuth()
      .addCookieAuth('gh_session')
      .build(),
  );
  // As package.json says: not licensed for use by others (no URL to point at).
  document.info.license = { name: 'UNLICENSED' };
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const op = item[method] as (Record<string, unknown> & { security?: unknown[] }) | undefined;
      if (op?.[PUBLIC_EXTENSION] === undefined) continue;
      delete op[PUBLIC_EXTENSION];
      op.security = [];
    }
  }
  return document;
}
