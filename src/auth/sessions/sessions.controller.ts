import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { PageQuery } from '#src/common/http/pagination.js';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { SessionsAdminService } from '#src/auth/sessions/sessions-admin.service.js';

@ApiTags('sessions')
@Controller('users/:id/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsAdminService) {}

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Get()
  list(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: PageQuery) {
    return this.sessions.list(p, id, q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Get(':sid')
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Param('sid') sid: string) {
    return this.sessions.get(p, id, sid);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Delete(':sid')
  @HttpCode(204)
  async revoke(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('sid') sid: string,
  ): Promise<void> {
    await this.sessions.revoke(p, id, sid);
  }
}
