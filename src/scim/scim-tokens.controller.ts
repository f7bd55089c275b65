import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { IdParam } from '#src/common/http/id-param.js';
import { PageQuery } from '#src/common/http/pagination.js';
import { CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { WorkspaceAccess } from '#src/tenancy/access/access.decorators.js';
import {
  CreatedScimTokenResponse,
  CreateScimTokenDto,
  ScimTokenPage,
} from '#src/scim/dto/scim-tokens.dto.js';
import { ScimTokensService } from '#src/scim/scim-tokens.service.js';

@ApiTags('scim')
@Controller('workspaces/:domain/scim-tokens')
export class ScimTokensController {
  constructor(private readonly tokens: ScimTokensService) {}

  @WorkspaceAccess('admin')
  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'createScimToken',
    summary: "Create a SCIM token for the workspace's /scim/v2 (shown once)",
  })
  @ApiCreatedResponse({ type: CreatedScimTokenResponse })
  @ApiProblems(400, 401, 403, 404)
  create(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @Body() body: CreateScimTokenDto,
  ): Promise<CreatedScimTokenResponse> {
    return this.tokens.create(p, domain, body.name);
  }

  @WorkspaceAccess('admin')
  @Get()
  @ApiOperation({ operationId: 'listScimTokens', summary: "The workspace's SCIM tokens" })
  @ApiOkResponse({ type: ScimTokenPage })
  @ApiProblems(400, 401, 403, 404)
  list(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @Query() q: PageQuery,
  ): Promise<ScimTokenPage> {
    return this.tokens.list(p, domain, q.limit ?? 50, q.cursor);
  }

  @WorkspaceAccess('admin')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeScimToken', summary: 'Revoke a SCIM token' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(400, 401, 403, 404)
  async revoke(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @IdParam('id') id: string,
  ): Promise<void> {
    await this.tokens.revoke(p, domain, id);
  }
}
