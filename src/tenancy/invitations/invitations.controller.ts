import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { IdParam } from '#src/common/http/id-param.js';
import { PageQuery } from '#src/common/http/pagination.js';
import { SignInRateLimit } from '#src/common/http/throttle.js';
import { CurrentPrincipal, Public } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { WorkspaceAccess } from '#src/tenancy/access/access.decorators.js';
import {
  AcceptInvitationDto,
  CreateInvitationsDto,
  DeclineInvitationDto,
} from '#src/tenancy/invitations/dto/invitation.dto.js';
import {
  AcceptedInvitationDto,
  InvitationPage,
  InvitationResultsDto,
} from '#src/tenancy/invitations/dto/invitation.responses.js';
import { InvitationsService } from '#src/tenancy/invitations/invitations.service.js';
import { OptionalPrincipal } from '#src/tenancy/invitations/optional-principal.js';

@ApiTags('invitations')
@Controller()
export class InvitationsController {
  constructor(
    private readonly invitations: InvitationsService,
    private readonly principal: OptionalPrincipal,
  ) {}

  @WorkspaceAccess('admin')
  @Post('workspaces/:domain/invitations')
  @ApiOperation({
    operationId: 'createInvitations',
    summary: 'Invite people (known or not) to the workspace; each gets a mailed /invite link',
  })
  @ApiCreatedResponse({ type: InvitationResultsDto })
  @ApiProblems(400, 401, 403, 404)
  async create(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @Body() body: CreateInvitationsDto,
  ): Promise<InvitationResultsDto> {
    return { items: await this.invitations.invite(p, domain, body.emails, body.role) };
  }

  @WorkspaceAccess('admin')
  @Get('workspaces/:domain/invitations')
  @ApiOperation({ operationId: 'listInvitations', summary: 'Pending invitations of the workspace' })
  @ApiOkResponse({ type: InvitationPage })
  @ApiProblems(400, 401, 403, 404)
  list(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @Query() q: PageQuery,
  ): Promise<InvitationPage> {
    return this.invitations.listPending(p, domain, q.limit ?? 50, q.cursor);
  }

  @WorkspaceAccess('admin')
  @Delete('workspaces/:domain/invitations/:id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'revokeInvitation', summary: 'Revoke a pending invitation' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(400, 401, 403, 404)
  async revoke(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @IdParam('id') id: string,
  ): Promise<void> {
    await this.invitations.revoke(p, domain, id);
  }

  @Public()
  @SignInRateLimit()
  @Post('invitations/accept')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'acceptInvitation',
    summary:
      'Accept an invitation: signed in as the invited email, or with a new password for an account that has none',
  })
  @ApiOkResponse({ type: AcceptedInvitationDto })
  @ApiProblems(400, 401, 403, 422, 429)
  async accept(
    @Req() req: FastifyRequest,
    @Body() body: AcceptInvitationDto,
  ): Promise<AcceptedInvitationDto> {
    const caller = await this.principal.of(req);
    return this.invitations.accept(body.token, body.password, caller);
  }

  @Public()
  @SignInRateLimit()
  @Post('invitations/decline')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'declineInvitation',
    summary: 'Decline an invitation (the token is enough)',
  })
  @ApiNoContentResponse({ description: 'Declined' })
  @ApiProblems(400, 401, 403, 429)
  async decline(@Req() req: FastifyRequest, @Body() body: DeclineInvitationDto): Promise<void> {
    const caller = await this.principal.of(req);
    await this.invitations.decline(body.token, caller);
  }
}
