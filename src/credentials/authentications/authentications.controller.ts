import { Body, Controller, Delete, Get, Header, HttpCode, Param, Put, Query } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { IdParam } from '#src/common/http/id-param.js';
import {
  AUTHENTICATION_SCHEMA,
  AuthenticationPage,
  LinkedIdentityDto,
  StoredCredentialDto,
  type AuthenticationDto,
} from '#src/credentials/dto/credentials.responses.js';
import { PageQuery } from '#src/common/http/pagination.js';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { PutAuthenticationDto } from '#src/credentials/dto/credentials.dto.js';
import { AuthenticationsService } from '#src/credentials/authentications/authentications.service.js';

@ApiTags('credentials')
@Controller('users/:id/authentications')
@ApiExtraModels(LinkedIdentityDto, StoredCredentialDto)
export class AuthenticationsController {
  constructor(private readonly auths: AuthenticationsService) {}

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Get()
  @ApiOperation({
    operationId: 'listAuthentications',
    summary: "A user's linked identities and stored credentials",
  })
  @ApiOkResponse({ type: AuthenticationPage })
  @ApiProblems(400, 401, 403, 404)
  list(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Query() q: PageQuery,
  ): Promise<AuthenticationPage> {
    return this.auths.list(p, id, q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Get(':service')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'getAuthentication',
    summary: 'A linked identity or stored credential (secrets in clear for the owner only)',
  })
  @ApiParam({ name: 'service', description: 'A provider id or an external service name' })
  @ApiOkResponse({ schema: AUTHENTICATION_SCHEMA })
  @ApiProblems(400, 401, 403, 404)
  get(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Param('service') service: string,
  ): Promise<AuthenticationDto> {
    return this.auths.get(p, id, service);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Put(':service')
  @ApiOperation({
    operationId: 'putStoredCredential',
    summary: 'Store the credentials for an external service',
  })
  @ApiParam({ name: 'service', description: 'An external service name' })
  @ApiOkResponse({ type: StoredCredentialDto })
  @ApiProblems(400, 401, 403, 404, 409, 422)
  put(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Param('service') service: string,
    @Body() body: PutAuthenticationDto,
  ): Promise<StoredCredentialDto> {
    return this.auths.put(p, id, service, body);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Delete(':service')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteAuthentication',
    summary: 'Unlink an identity or delete a stored credential',
  })
  @ApiParam({ name: 'service', description: 'A provider id or an external service name' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems(400, 401, 403, 404, 422)
  async remove(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Param('service') service: string,
  ): Promise<void> {
    await this.auths.remove(p, id, service);
  }
}
