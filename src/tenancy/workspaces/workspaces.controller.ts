import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { PageQuery } from '#src/common/http/pagination.js';
import {
  AddWorkspaceUsersDto,
  CreateWorkspaceDto,
  ListWorkspacesQuery,
  SetWorkspaceRoleDto,
  UpdateWorkspaceDto,
} from '#src/tenancy/workspaces/dto/workspace.dto.js';
import { WorkspacesService } from '#src/tenancy/workspaces/workspaces.service.js';
import { ListsVisible, WorkspaceAccess } from '#src/tenancy/access/access.decorators.js';

// Membership checks depend on data, so they live in the service (a workspace you may not see is 404).
@ApiTags('workspaces')
@Controller('workspaces')
export class WorkspacesController {
  constructor(private readonly workspaces: WorkspacesService) {}

  @Authenticated({ permission: 'workspaces.create' })
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateWorkspaceDto) {
    return this.workspaces.create(p, body.title);
  }

  @ListsVisible('workspaces')
  @Get()
  list(@CurrentPrincipal() p: Principal, @Query() q: ListWorkspacesQuery) {
    return this.workspaces.list(p, q);
  }

  @WorkspaceAccess('member')
  @Get(':domain')
  get(@CurrentPrincipal() p: Principal, @Param('domain') domain: string) {
    return this.workspaces.get(p, domain);
  }

  @WorkspaceAccess('admin')
  @Patch(':domain')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @Body() body: UpdateWorkspaceDto,
  ) {
    return this.workspaces.update(p, domain, body.title);
  }

  @WorkspaceAccess('admin')
  @Delete(':domain')
  @HttpCode(204)
  async remove(@CurrentPrincipal() p: Principal, @Param('domain') domain: string): Promise<void> {
    await this.workspaces.remove(p, domain);
  }

  @WorkspaceAccess('member')
  @Get(':domain/users')
  users(@CurrentPrincipal() p: Principal, @Param('domain') domain: string, @Query() q: PageQuery) {
    return this.workspaces.listUsers(p, domain, q.limit ?? 50, q.cursor);
  }

  @WorkspaceAccess('admin')
  @Post(':domain/users')
  @HttpCode(200)
  addUsers(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @Body() body: AddWorkspaceUsersDto,
  ) {
    return this.workspaces.addUsers(p, domain, body.emails, body.role);
  }

  @WorkspaceAccess('admin')
  @Put(':domain/users/:userId')
  setRole(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @Param('userId') userId: string,
    @Body() body: SetWorkspaceRoleDto,
  ) {
    return this.workspaces.setUserRole(p, domain, userId, body.role);
  }

  @WorkspaceAccess('admin')
  @Delete(':domain/users/:userId')
  @HttpCode(204)
  async removeUser(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @Param('userId') userId: string,
  ): Promise<void> {
    await this.workspaces.removeUser(p, domain, userId);
  }
}
