import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
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
import { UserAdminService } from '#src/user-admin/user-admin.service.js';
import { UserManagementService } from '#src/users/user-management.service.js';

// Literal `me` routes are declared before `:id` ones; the service also reads `:id` = `me` as the
// caller. POST /users/me/password lives in the auth module and no route here has its shape.
@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(
    private readonly users: UserManagementService,
    private readonly admin: UserAdminService,
  ) {}

  // users.read, or a workspace admin (limited to their workspaces' members): decided in the service.
  @Authenticated()
  @Get()
  list(@CurrentPrincipal() p: Principal, @Query() q: ListUsersQuery) {
    return this.admin.list(p, q);
  }

  @Authenticated({ permission: 'users.manage' })
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateUserDto) {
    return this.users.create(p, body);
  }

  @Authenticated()
  @Get('me')
  me(@CurrentPrincipal() p: Principal, @Query() q: GetUserQuery) {
    return this.admin.get(p, 'me', q.includeProjects);
  }

  @Authenticated()
  @Patch('me')
  updateMe(@CurrentPrincipal() p: Principal, @Body() body: UpdateUserDto) {
    return this.users.update(p, 'me', body);
  }

  @Authenticated({ permission: 'users.read', self: 'id' })
  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: GetUserQuery) {
    return this.admin.get(p, id, q.includeProjects);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Patch(':id')
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: UpdateUserDto) {
    return this.users.update(p, id, body);
  }

  @Authenticated({ permission: 'users.manage' })
  @Delete(':id')
  @HttpCode(204)
  async delete(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query() q: DeleteUserQuery,
  ): Promise<void> {
    await this.users.delete(p, id, q.missingOk);
  }

  @Authenticated({ permission: 'users.manage' })
  @Post(':id/activate')
  @HttpCode(200)
  activate(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.users.activate(p, id);
  }

  @Authenticated({ permission: 'audit.read', self: 'id' })
  @Get(':id/log')
  log(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: PageQuery) {
    return this.users.log(p, id, q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'audit.read', self: 'id' })
  @Get(':id/actions')
  actions(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: PageQuery) {
    return this.users.actions(p, id, q.limit ?? 50, q.cursor);
  }
}
