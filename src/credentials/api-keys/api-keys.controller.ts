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
import { ApiKeyPage, CreatedApiKeyResponse } from '#src/credentials/dto/credentials.responses.js';
import { PageQuery } from '#src/common/http/pagination.js';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { CreateApiKeyDto } from '#src/credentials/dto/credentials.dto.js';
import { ApiKeysService } from '#src/credentials/api-keys/api-keys.service.js';

@ApiTags('credentials')
@Controller('users/:id/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  // Minting needs a signed-in person: a key or token must not mint further credentials.
  @Authenticated({ permission: 'users.manage', self: 'id', credentials: ['session'] })
  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'createApiKey',
    summary: 'Create an API key (the secret is shown once)',
  })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  @ApiProblems(400, 401, 403, 404, 422)
  create(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Body() body: CreateApiKeyDto,
  ): Promise<CreatedApiKeyResponse> {
    return this.keys.create(p, id, body);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Get()
  @ApiOperation({ operationId: 'listApiKeys', summary: "A user's API keys (never the secrets)" })
  @ApiOkResponse({ type: ApiKeyPage })
  @ApiProblems(400, 401, 403, 404)
  list(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Query() q: PageQuery,
  ): Promise<ApiKeyPage> {
    return this.keys.list(p, id, q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Delete(':keyId')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeApiKey', summary: 'Revoke an API key' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(400, 401, 403, 404)
  async revoke(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @IdParam('keyId') keyId: string,
  ): Promise<void> {
    await this.keys.revoke(p, id, keyId);
  }
}
