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
import { ApiTags } from '@nestjs/swagger';
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
  create(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: CreateGrantDto) {
    return this.grants.create(p, id, body);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Get()
  list(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: PageQuery) {
    return this.grants.list(p, id, q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Delete(':gid')
  @HttpCode(204)
  async revoke(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('gid') gid: string,
  ): Promise<void> {
    await this.grants.revoke(p, id, gid);
  }
}
