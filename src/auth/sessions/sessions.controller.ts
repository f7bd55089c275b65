import { Controller, Delete, Get, HttpCode, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { SessionPage, SessionResponseDto } from '#src/auth/dto/auth.responses.js';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { IdParam } from '#src/common/http/id-param.js';
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
  @ApiOperation({ operationId: 'listSessions', summary: "A user's sign-in sessions" })
  @ApiOkResponse({ type: SessionPage })
  @ApiProblems(400, 401, 403, 404)
  list(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Query() q: PageQuery,
  ): Promise<SessionPage> {
    return this.sessions.list(p, id, q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Get(':sid')
  @ApiOperation({ operationId: 'getSession', summary: 'One sign-in session' })
  @ApiOkResponse({ type: SessionResponseDto })
  @ApiProblems(400, 401, 403, 404)
  get(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @IdParam('sid') sid: string,
  ): Promise<SessionResponseDto> {
    return this.sessions.get(p, id, sid);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Delete(':sid')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeSession', summary: 'Sign a session out at once' })
  @ApiNoContentResponse({ description: 'Signed out' })
  @ApiProblems(400, 401, 403, 404)
  async revoke(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @IdParam('sid') sid: string,
  ): Promise<void> {
    await this.sessions.revoke(p, id, sid);
  }
}
