import { Body, Controller, Delete, Get, Header, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { IdParam } from '#src/common/http/id-param.js';
import { CreatedGrantResponse, GrantPage } from '#src/credentials/dto/credentials.responses.js';
import { PageQuery } from '#src/common/http/pagination.js';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { CreateGrantDto } from '#src/credentials/dto/credentials.dto.js';
import { GrantsService } from '#src/credentials/grants/grants.service.js';

@ApiTags('credentials')
@Controller('users/:id/grants')
export class GrantsController {
  constructor(private readonly grants: GrantsService) {}

  @Authenticated({ permission: 'users.manage', self: 'id', credentials: ['session'] })
  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'createGrant',
    summary: 'Create a grant (the refresh token is shown once)',
  })
  @ApiCreatedResponse({ type: CreatedGrantResponse })
  @ApiProblems(400, 401, 403, 404, 422)
  create(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Body() body: CreateGrantDto,
  ): Promise<CreatedGrantResponse> {
    return this.grants.create(p, id, body);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Get()
  @ApiOperation({ operationId: 'listGrants', summary: "A user's grants (never the tokens)" })
  @ApiOkResponse({ type: GrantPage })
  @ApiProblems(400, 401, 403, 404)
  list(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Query() q: PageQuery,
  ): Promise<GrantPage> {
    return this.grants.list(p, id, q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Delete(':gid')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeGrant', summary: 'Revoke a grant and every token from it' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(400, 401, 403, 404)
  async revoke(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @IdParam('gid') gid: string,
  ): Promise<void> {
    await this.grants.revoke(p, id, gid);
  }
}
