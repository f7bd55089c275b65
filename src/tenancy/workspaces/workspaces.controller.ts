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
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { IdParam } from '#src/common/http/id-param.js';
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
import {
  AddedWorkspaceUserDto,
  WorkspacePage,
  WorkspaceResponseDto,
  WorkspaceUserPage,
} from '#src/tenancy/workspaces/dto/workspace.responses.js';
import { WorkspacesService } from '#src/tenancy/workspaces/workspaces.service.js';
import {
  CheckedWorkspace,
  ListsVisible,
  WorkspaceAccess,
} from '#src/tenancy/access/access.decorators.js';
import type { WorkspaceAccess as WorkspaceView } from '#src/tenancy/access/access.service.js';

// Membership checks depend on data, so they live in the service (a workspace you may not see is 404).
@ApiTags('workspaces')
@Controller('workspaces')
export class WorkspacesController {
  constructor(private readonly workspaces: WorkspacesService) {}

  @Authenticated({ permission: 'workspaces.create' })
  @Post()
  @ApiOperation({ operationId: 'createWorkspace', summary: 'Create a workspace' })
  @ApiCreatedResponse({ type: WorkspaceResponseDto })
  @ApiProblems(400, 401, 403, 409)
  create(
    @CurrentPrincipal() p: Principal,
    @Body() body: CreateWorkspaceDto,
  ): Promise<WorkspaceResponseDto> {
    return this.workspaces.create(p, body.title);
  }

  @ListsVisible('workspaces')
  @Get()
  @ApiOperation({ operationId: 'listWorkspaces', summary: 'Workspaces the caller can access' })
  @ApiOkResponse({ type: WorkspacePage })
  @ApiProblems(400, 401)
  list(@CurrentPrincipal() p: Principal, @Query() q: ListWorkspacesQuery): Promise<WorkspacePage> {
    return this.workspaces.list(p, q);
  }

  @WorkspaceAccess('member')
  @Get(':domain')
  @ApiOperation({ operationId: 'getWorkspace', summary: 'A workspace' })
  @ApiOkResponse({ type: WorkspaceResponseDto })
  @ApiProblems(401, 403, 404)
  get(
    // :domain is documented here; the workspace itself is what the guard read.
    @Param('domain') _domain: string,
    @CheckedWorkspace() a: WorkspaceView,
  ): WorkspaceResponseDto {
    return this.workspaces.get(a);
  }

  @WorkspaceAccess('admin')
  @Patch(':domain')
  @ApiOperation({
    operationId: 'updateWorkspace',
    summary: 'Change the title, or require a second factor of the members (mfaRequired)',
  })
  @ApiOkResponse({ type: WorkspaceResponseDto })
  @ApiProblems(400, 401, 403, 404, 409)
  update(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @Body() body: UpdateWorkspaceDto,
  ): Promise<WorkspaceResponseDto> {
    return this.workspaces.update(p, domain, body);
  }

  @WorkspaceAccess('admin')
  @Delete(':domain')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteWorkspace',
    summary: 'Delete a workspace with its projects, groups and memberships',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(401, 403, 404)
  async remove(@CurrentPrincipal() p: Principal, @Param('domain') domain: string): Promise<void> {
    await this.workspaces.remove(p, domain);
  }

  @WorkspaceAccess('member')
  @Get(':domain/users')
  @ApiOperation({ operationId: 'listWorkspaceUsers', summary: 'Members with their workspace role' })
  @ApiOkResponse({ type: WorkspaceUserPage })
  @ApiProblems(400, 401, 403, 404)
  users(
    @Param('domain') _domain: string,
    @CheckedWorkspace() a: WorkspaceView,
    @Query() q: PageQuery,
  ): Promise<WorkspaceUserPage> {
    return this.workspaces.listUsers(a, q.limit ?? 50, q.cursor);
  }

  @WorkspaceAccess('admin')
  @Post(':domain/users')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'addWorkspaceUsers',
    summary:
      'Add people by email: unknown emails become invited pending users; existing people are added by server admins, else sent an invitation',
  })
  @ApiOkResponse({ type: [AddedWorkspaceUserDto] })
  @ApiProblems(400, 401, 403, 404, 409)
  addUsers(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @Body() body: AddWorkspaceUsersDto,
  ): Promise<AddedWorkspaceUserDto[]> {
    return this.workspaces.addUsers(p, domain, body.emails, body.role);
  }

  @WorkspaceAccess('admin')
  @Put(':domain/users/:userId')
  @ApiOperation({
    operationId: 'setWorkspaceUserRole',
    summary:
      "Set a member's workspace role, or bring in a user (a workspace admin's is an invitation)",
  })
  @ApiOkResponse({ type: AddedWorkspaceUserDto })
  @ApiProblems(400, 401, 403, 404, 422)
  setRole(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @IdParam('userId') userId: string,
    @Body() body: SetWorkspaceRoleDto,
  ): Promise<AddedWorkspaceUserDto> {
    return this.workspaces.setUserRole(p, domain, userId, body.role);
  }

  @WorkspaceAccess('admin')
  @Delete(':domain/users/:userId')
  @HttpCode(204)
  @ApiOperation({ operationId: 'removeWorkspaceUser', summary: 'Remove a member' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems(400, 401, 403, 404, 422)
  async removeUser(
    @CurrentPrincipal() p: Principal,
    @Param('domain') domain: string,
    @IdParam('userId') userId: string,
  ): Promise<void> {
    await this.workspaces.removeUser(p, domain, userId);
  }
}
