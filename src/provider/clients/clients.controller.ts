import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Patch,
  Post,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import {
  ClientList,
  ClientResponse,
  ClientSecretResponse,
  CreateClientDto,
  CreatedClientResponse,
  UpdateClientDto,
} from '#src/provider/clients/clients.dto.js';
import { ClientsService } from '#src/provider/clients/clients.service.js';

function clientIdParam(raw: string): string {
  if (!/^[0-9a-zA-Z-]{1,36}$/.test(raw)) throw AppException.invalid('clientId', 'must be an id');
  return raw;
}

@ApiTags('clients')
@Controller('clients')
export class ClientsController {
  constructor(private readonly clients: ClientsService) {}

  @Authenticated({ permission: 'clients.manage' })
  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'createClient',
    summary: 'Register an OAuth client (the secret is shown once)',
  })
  @ApiCreatedResponse({ type: CreatedClientResponse })
  @ApiProblems(400, 401, 403, 409, 422)
  create(
    @CurrentPrincipal() p: Principal,
    @Body() body: CreateClientDto,
  ): Promise<CreatedClientResponse> {
    return this.clients.create(p, body);
  }

  @Authenticated({ permission: 'clients.read' })
  @Get()
  @ApiOperation({ operationId: 'listClients', summary: 'The registered OAuth clients' })
  @ApiOkResponse({ type: ClientList })
  @ApiProblems(401, 403)
  list(): Promise<ClientList> {
    return this.clients.list();
  }

  @Authenticated({ permission: 'clients.read' })
  @Get(':clientId')
  @ApiParam({ name: 'clientId', type: String })
  @ApiOperation({ operationId: 'getClient', summary: 'One OAuth client (never its secret)' })
  @ApiOkResponse({ type: ClientResponse })
  @ApiProblems(400, 401, 403, 404)
  get(@Param('clientId') clientId: string): Promise<ClientResponse> {
    return this.clients.get(clientIdParam(clientId));
  }

  @Authenticated({ permission: 'clients.manage' })
  @Patch(':clientId')
  @ApiParam({ name: 'clientId', type: String })
  @ApiOperation({ operationId: 'updateClient', summary: 'Change an OAuth client' })
  @ApiOkResponse({ type: ClientResponse })
  @ApiProblems(400, 401, 403, 404)
  update(
    @CurrentPrincipal() p: Principal,
    @Param('clientId') clientId: string,
    @Body() body: UpdateClientDto,
  ): Promise<ClientResponse> {
    return this.clients.update(p, clientIdParam(clientId), body);
  }

  @Authenticated({ permission: 'clients.manage' })
  @Delete(':clientId')
  @HttpCode(204)
  @ApiParam({ name: 'clientId', type: String })
  @ApiOperation({
    operationId: 'deleteClient',
    summary: 'Delete an OAuth client: its tokens stop, its service account is disabled',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 401, 403, 404)
  async remove(@CurrentPrincipal() p: Principal, @Param('clientId') clientId: string) {
    await this.clients.remove(p, clientIdParam(clientId));
  }

  @Authenticated({ permission: 'clients.manage' })
  @Post(':clientId/secret')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiParam({ name: 'clientId', type: String })
  @ApiOperation({
    operationId: 'rotateClientSecret',
    summary: 'A new secret (shown once); the old one stops working',
  })
  @ApiOkResponse({ type: ClientSecretResponse })
  @ApiProblems(400, 401, 403, 404, 422)
  rotate(
    @CurrentPrincipal() p: Principal,
    @Param('clientId') clientId: string,
  ): Promise<ClientSecretResponse> {
    return this.clients.rotateSecret(p, clientIdParam(clientId));
  }
}
