import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AppConfig } from '#src/config/config.js';
import { Public } from '#src/kernel/auth.decorators.js';
import { Scim, ScimAuthGuard } from '#src/scim/scim-auth.guard.js';
import { SCIM_CONTENT_TYPE, ScimException } from '#src/common/errors/scim-error.js';
import { ScimExceptionFilter } from '#src/scim/scim-exception.filter.js';
import { groupAttribute, userAttribute } from '#src/scim/scim.repository.js';
import { ScimGroupsService } from '#src/scim/scim-groups.service.js';
import { listParams, project, type ScimResource } from '#src/scim/scim-resources.js';
import { resourceTypes, schemas, serviceProviderConfig } from '#src/scim/scim-schemas.js';
import type { ScimContext } from '#src/scim/scim-tokens.service.js';
import { ScimUsersService } from '#src/scim/scim-users.service.js';
import type { Written } from '#src/scim/scim-users.service.js';

type QueryParams = Record<string, unknown>;

/** A single resource: its version in ETag (RFC 7644 §3.14), attribute selection applied. */
function one(res: FastifyReply, r: ScimResource, q: QueryParams = {}): Record<string, unknown> {
  res.header('ETag', r.meta.version);
  const attrs = typeof q.attributes === 'string' ? q.attributes : undefined;
  const excluded = typeof q.excludedAttributes === 'string' ? q.excludedAttributes : undefined;
  return project(r, attrs, excluded);
}

function created(res: FastifyReply, w: Written): Record<string, unknown> {
  res.header('Location', w.resource.meta.location);
  return one(res, w.resource);
}

/**
 * SCIM 2.0 (RFC 7644) for the workspace of the bearer SCIM token. Left out of the OpenAPI
 * document: the protocol is specified by the RFCs and describes itself at /Schemas,
 * /ResourceTypes and /ServiceProviderConfig, and its errors use the SCIM error schema.
 */
@ApiExcludeController()
@Public({ ownBearer: 'scim-token' })
@UseGuards(ScimAuthGuard)
@UseFilters(ScimExceptionFilter)
@Controller('scim/v2')
export class ScimController {
  private readonly base: string;

  constructor(
    private readonly users: ScimUsersService,
    private readonly groups: ScimGroupsService,
    config: AppConfig,
  ) {
    this.base = `${config.publicUrl.replace(/\/$/, '')}/scim/v2`;
  }

  // Discovery

  @Get('ServiceProviderConfig')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  serviceProviderConfig(): Record<string, unknown> {
    return serviceProviderConfig(this.base);
  }

  @Get('ResourceTypes')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  resourceTypes(): Record<string, unknown> {
    const all = resourceTypes(this.base);
    return {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: all.length,
      startIndex: 1,
      itemsPerPage: all.length,
      Resources: all,
    };
  }

  @Get('ResourceTypes/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  resourceType(@Param('id') id: string): Record<string, unknown> {
    const r = resourceTypes(this.base).find((x) => x.id === id);
    if (!r) throw ScimException.notFound('ResourceType');
    return r;
  }

  @Get('Schemas')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  schemas(): Record<string, unknown> {
    const all = schemas(this.base);
    return {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: all.length,
      startIndex: 1,
      itemsPerPage: all.length,
      Resources: all,
    };
  }

  @Get('Schemas/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  schema(@Param('id') id: string): Record<string, unknown> {
    const r = schemas(this.base).find((x) => x.id === id);
    if (!r) throw ScimException.notFound('Schema');
    return r;
  }

  // Users

  @Get('Users')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  listUsers(@Scim() ctx: ScimContext, @Query() q: QueryParams): Promise<Record<string, unknown>> {
    return this.users.list(ctx, listParams(q, userAttribute));
  }

  @Post('Users/.search')
  @HttpCode(200)
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  searchUsers(@Scim() ctx: ScimContext, @Body() body: unknown): Promise<Record<string, unknown>> {
    return this.users.list(ctx, listParams(searchBody(body), userAttribute));
  }

  @Post('Users')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async createUser(
    @Scim() ctx: ScimContext,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return created(res, await this.users.create(ctx, body));
  }

  @Get('Users/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async getUser(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Query() q: QueryParams,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return one(res, await this.users.get(ctx, id), q);
  }

  @Put('Users/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async replaceUser(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return one(res, await this.users.replace(ctx, id, body, ifMatch));
  }

  @Patch('Users/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async patchUser(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return one(res, await this.users.patch(ctx, id, body, ifMatch));
  }

  @Delete('Users/:id')
  @HttpCode(204)
  async deleteUser(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.users.remove(ctx, id, ifMatch);
  }

  // Groups

  @Get('Groups')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  listGroups(@Scim() ctx: ScimContext, @Query() q: QueryParams): Promise<Record<string, unknown>> {
    return this.groups.list(ctx, listParams(q, groupAttribute));
  }

  @Post('Groups/.search')
  @HttpCode(200)
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  searchGroups(@Scim() ctx: ScimContext, @Body() body: unknown): Promise<Record<string, unknown>> {
    return this.groups.list(ctx, listParams(searchBody(body), groupAttribute));
  }

  @Post('Groups')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async createGroup(
    @Scim() ctx: ScimContext,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return created(res, await this.groups.create(ctx, body));
  }

  @Get('Groups/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async getGroup(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Query() q: QueryParams,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return one(res, await this.groups.get(ctx, id), q);
  }

  @Put('Groups/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async replaceGroup(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return one(res, await this.groups.replace(ctx, id, body, ifMatch));
  }

  @Patch('Groups/:id')
  @Header('Content-Type', SCIM_CONTENT_TYPE)
  async patchGroup(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<Record<string, unknown>> {
    return one(res, await this.groups.patch(ctx, id, body, ifMatch));
  }

  @Delete('Groups/:id')
  @HttpCode(204)
  async deleteGroup(
    @Scim() ctx: ScimContext,
    @Param('id') id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.groups.remove(ctx, id, ifMatch);
  }

  // Anything else under /scim/v2: a SCIM 404 (after authentication, so nothing leaks). One route
  // per method, so the route-declaration snapshot lists each.

  @Get('*')
  notFoundGet(): never {
    throw ScimException.notFound('Endpoint');
  }

  @Post('*')
  notFoundPost(): never {
    throw ScimException.notFound('Endpoint');
  }

  @Put('*')
  notFoundPut(): never {
    throw ScimException.notFound('Endpoint');
  }

  @Patch('*')
  notFoundPatch(): never {
    throw ScimException.notFound('Endpoint');
  }

  @Delete('*')
  notFoundDelete(): never {
    throw ScimException.notFound('Endpoint');
  }
}

/** A SearchRequest body (RFC 7644 §3.4.3) read with the query-string rules. */
function searchBody(body: unknown): QueryParams {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new ScimException(400, 'The body must be a SearchRequest object.', 'invalidSyntax');
  const out: QueryParams = {};
  for (const [k, v] of Object.entries(body as QueryParams)) {
    if (k === 'schemas') continue;
    out[k] = Array.isArray(v) ? v.join(',') : typeof v === 'number' ? String(v) : v;
  }
  return out;
}
