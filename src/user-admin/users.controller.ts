import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { HotRead } from '#src/common/http/hot-read.js';
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
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import {
  CreateUserDto,
  DeleteUserQuery,
  GetUserQuery,
  ListUsersQuery,
  UpdateUserDto,
} from '#src/users/dto/users.dto.js';
import { AuditEntryPage, UserDetailResponseDto, UserPage } from '#src/users/dto/user.responses.js';
import { UserWithProjectsDto } from '#src/user-admin/dto/user-admin.responses.js';
import { UserAdminService } from '#src/user-admin/user-admin.service.js';
import { UserManagementService } from '#src/users/user-management.service.js';
import { AuthService } from '#src/auth/auth.service.js';
import { MfaService } from '#src/auth/mfa/mfa.service.js';

// Literal `me` routes are declared before `:id` ones; the service also reads `:id` = `me` as the
// caller. POST /users/me/password lives in the auth module and no route here has its shape.
@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UserManagementService,
    private readonly admin: UserAdminService,
    private readonly auth: AuthService,
    private readonly mfa: MfaService,
  ) {}

  /** Setting one's own password here, or deleting one's own account: a recent sign-in first. */
  private async recentIfSelf(p: Principal, id: string, sensitive: boolean): Promise<void> {
    if (sensitive && (id === 'me' || id === p.userId)) await this.mfa.requireRecentSignIn(p);
  }

  // users.read, or a workspace admin (limited to their workspaces' members): decided in the service.
  @Authenticated()
  @Get()
  @ApiOperation({ operationId: 'listUsers', summary: 'Users by email, username or name prefix' })
  @ApiOkResponse({ type: UserPage })
  @ApiProblems(400, 401, 403)
  list(@CurrentPrincipal() p: Principal, @Query() q: ListUsersQuery): Promise<UserPage> {
    return this.admin.list(p, q);
  }

  @Authenticated({ permission: 'users.manage' })
  @Post()
  @ApiOperation({
    operationId: 'createUser',
    summary: 'Create an active user, or a pending one who gets an activation mail',
  })
  @ApiCreatedResponse({ type: UserDetailResponseDto })
  @ApiProblems(400, 401, 403, 409, 422)
  async create(
    @CurrentPrincipal() p: Principal,
    @Body() body: CreateUserDto,
  ): Promise<UserDetailResponseDto> {
    const user = await this.users.create(p, body);
    if (user.status === 'pending') await this.auth.sendActivation(user.id);
    return user;
  }

  @Authenticated()
  @HotRead()
  @Get('me')
  @ApiOperation({ operationId: 'getMe', summary: 'The caller' })
  @ApiOkResponse({ type: UserWithProjectsDto })
  @ApiProblems(400, 401)
  me(@CurrentPrincipal() p: Principal, @Query() q: GetUserQuery): Promise<UserWithProjectsDto> {
    return this.admin.get(p, 'me', q.includeProjects);
  }

  @Authenticated()
  @Patch('me')
  @ApiOperation({ operationId: 'updateMe', summary: "Update the caller's profile and data" })
  @ApiOkResponse({ type: UserDetailResponseDto })
  @ApiProblems(400, 401, 403, 409, 422)
  async updateMe(
    @CurrentPrincipal() p: Principal,
    @Body() body: UpdateUserDto,
  ): Promise<UserDetailResponseDto> {
    await this.recentIfSelf(p, 'me', body.password !== undefined);
    return this.users.update(p, 'me', body);
  }

  @Authenticated({ permission: 'users.read', self: 'id' })
  @Get(':id')
  @ApiOperation({ operationId: 'getUser', summary: 'A user, with custom data' })
  @ApiOkResponse({ type: UserWithProjectsDto })
  @ApiProblems(400, 401, 403, 404)
  get(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Query() q: GetUserQuery,
  ): Promise<UserWithProjectsDto> {
    return this.admin.get(p, id, q.includeProjects);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Patch(':id')
  @ApiOperation({ operationId: 'updateUser', summary: 'Update a user' })
  @ApiOkResponse({ type: UserDetailResponseDto })
  @ApiProblems(400, 401, 403, 404, 409, 422)
  async update(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Body() body: UpdateUserDto,
  ): Promise<UserDetailResponseDto> {
    await this.recentIfSelf(p, id, body.password !== undefined);
    return this.users.update(p, id, body);
  }

  @Authenticated({ permission: 'users.manage' })
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteUser', summary: 'Delete a user and what is only theirs' })
  @ApiNoContentResponse({ description: 'Deleted (or unknown, with `missingOk=true`)' })
  @ApiProblems(400, 401, 403, 404, 422)
  async delete(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Query() q: DeleteUserQuery,
  ): Promise<void> {
    await this.recentIfSelf(p, id, true);
    await this.users.delete(p, id, q.missingOk);
  }

  @Authenticated({ permission: 'users.manage' })
  @Post(':id/activate')
  @HttpCode(200)
  @ApiOperation({ operationId: 'activateUser', summary: 'Activate a pending user' })
  @ApiOkResponse({ type: UserDetailResponseDto })
  @ApiProblems(400, 401, 403, 404, 422)
  activate(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
  ): Promise<UserDetailResponseDto> {
    return this.users.activate(p, id);
  }

  @Authenticated({ permission: 'audit.read', self: 'id' })
  @Get(':id/log')
  @ApiOperation({ operationId: 'listUserLog', summary: "Changes made to a user's record" })
  @ApiOkResponse({ type: AuditEntryPage })
  @ApiProblems(400, 401, 403, 404)
  log(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Query() q: PageQuery,
  ): Promise<AuditEntryPage> {
    return this.users.log(p, id, q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'audit.read', self: 'id' })
  @Get(':id/actions')
  @ApiOperation({ operationId: 'listUserActions', summary: 'Changes a user made anywhere' })
  @ApiOkResponse({ type: AuditEntryPage })
  @ApiProblems(400, 401, 403, 404)
  actions(
    @CurrentPrincipal() p: Principal,
    @IdParam('id', { allowMe: true }) id: string,
    @Query() q: PageQuery,
  ): Promise<AuditEntryPage> {
    return this.users.actions(p, id, q.limit ?? 50, q.cursor);
  }
}
