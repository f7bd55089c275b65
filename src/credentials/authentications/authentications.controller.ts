import { Body, Controller, Delete, Get, Header, HttpCode, Param, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { PageQuery } from '#src/common/http/pagination.js';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { PutAuthenticationDto } from '#src/credentials/dto/credentials.dto.js';
import { AuthenticationsService } from '#src/credentials/authentications/authentications.service.js';

@ApiTags('credentials')
@Controller('users/:id/authentications')
export class AuthenticationsController {
  constructor(private readonly auths: AuthenticationsService) {}

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Get()
  list(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: PageQuery) {
    return this.auths.list(p, id, q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Get(':service')
  @Header('Cache-Control', 'no-store')
  get(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('service') service: string,
  ) {
    return this.auths.get(p, id, service);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Put(':service')
  put(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('service') service: string,
    @Body() body: PutAuthenticationDto,
  ) {
    return this.auths.put(p, id, service, body);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Delete(':service')
  @HttpCode(204)
  async remove(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('service') service: string,
  ): Promise<void> {
    await this.auths.remove(p, id, service);
  }
}
