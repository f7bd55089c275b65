import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { HotRead } from '#src/common/http/hot-read.js';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { IdParam } from '#src/common/http/id-param.js';
import { GroupIdParam } from '#src/tenancy/groups/group-id.js';
import { PageQuery } from '#src/common/http/pagination.js';
import {
  AddProjectMemberDto,
  CreateProjectDto,
  ListProjectsQuery,
  PermissionsQuery,
  UpdateProjectDto,
  UpdateProjectMemberDto,
} from '#src/tenancy/projects/dto/project.dto.js';
import {
  ProjectMemberDto,
  ProjectMemberPage,
  ProjectPage,
  ProjectPermissionsDto,
  ProjectResponseDto,
} from '#src/tenancy/projects/dto/project.responses.js';
import { ProjectMembersService } from '#src/tenancy/projects/project-members.service.js';
import { ProjectsService } from '#src/tenancy/projects/projects.service.js';
import {
  CheckedProject,
  ProjectAccess,
  WorkspaceAccess,
} from '#src/tenancy/access/access.decorators.js';
import type { ProjectView } from '#src/tenancy/access/access.service.js';

// Each route declares its project rule; the services check again under the row lock.
@ApiTags('projects')
@Controller('projects')
export class ProjectsController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly members: ProjectMembersService,
  ) {}

  @WorkspaceAccess('contributor', 'workspace', 'body')
  @Post()
  @ApiOperation({ operationId: 'createProject', summary: 'Create a project in a workspace' })
  @ApiCreatedResponse({ type: ProjectResponseDto })
  @ApiProblems(400, 401, 403, 404, 409)
  create(
    @CurrentPrincipal() p: Principal,
    @Body() body: CreateProjectDto,
  ): Promise<ProjectResponseDto> {
    return this.projects.create(p, body.name, body.workspace);
  }

  @WorkspaceAccess('member', 'workspace', 'query')
  @Get()
  @ApiOperation({ operationId: 'listProjects', summary: 'Projects the caller can see' })
  @ApiOkResponse({ type: ProjectPage })
  @ApiProblems(400, 401, 403, 404)
  list(@CurrentPrincipal() p: Principal, @Query() q: ListProjectsQuery): Promise<ProjectPage> {
    return this.projects.list(p, q);
  }

  @ProjectAccess('projects.read')
  @Get(':id')
  @ApiOperation({ operationId: 'getProject', summary: 'A project' })
  @ApiOkResponse({ type: ProjectResponseDto })
  @ApiProblems(400, 401, 403, 404)
  get(
    // :id is validated and documented here; the project itself is what the guard read.
    @IdParam('id') _id: string,
    @CheckedProject() v: ProjectView,
  ): Promise<ProjectResponseDto> {
    return this.projects.get(v);
  }

  @ProjectAccess('projects.update')
  @Patch(':id')
  @ApiOperation({ operationId: 'updateProject', summary: 'Rename a project' })
  @ApiOkResponse({ type: ProjectResponseDto })
  @ApiProblems(400, 401, 403, 404, 409)
  update(
    @CurrentPrincipal() p: Principal,
    @IdParam('id') id: string,
    @Body() body: UpdateProjectDto,
  ): Promise<ProjectResponseDto> {
    return this.projects.update(p, id, body.name);
  }

  @ProjectAccess('projects.delete')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteProject', summary: 'Delete a project' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 401, 403, 404)
  async remove(@CurrentPrincipal() p: Principal, @IdParam('id') id: string): Promise<void> {
    await this.projects.remove(p, id);
  }

  @ProjectAccess('projects.members.read')
  @Get(':id/members')
  @ApiOperation({ operationId: 'listProjectMembers', summary: "A project's members" })
  @ApiOkResponse({ type: ProjectMemberPage })
  @ApiProblems(400, 401, 403, 404)
  listMembers(
    @IdParam('id') _id: string,
    @CheckedProject() v: ProjectView,
    @Query() q: PageQuery,
  ): Promise<ProjectMemberPage> {
    return this.members.list(v, q.limit ?? 50, q.cursor);
  }

  @ProjectAccess('projects.members.manage')
  @Post(':id/members')
  @ApiOperation({ operationId: 'addProjectMember', summary: 'Add a user or a group' })
  @ApiCreatedResponse({ type: ProjectMemberDto })
  @ApiProblems(400, 401, 403, 404, 409, 422)
  addMember(
    @CurrentPrincipal() p: Principal,
    @IdParam('id') id: string,
    @Body() body: AddProjectMemberDto,
  ): Promise<ProjectMemberDto> {
    return this.members.add(p, id, body);
  }

  @ProjectAccess('projects.members.manage')
  @Patch(':id/members/:memberId')
  @ApiOperation({ operationId: 'changeProjectMemberRole', summary: "Change a member's role" })
  @ApiOkResponse({ type: ProjectMemberDto })
  @ApiProblems(400, 401, 403, 404, 422)
  changeMember(
    @CurrentPrincipal() p: Principal,
    @IdParam('id') id: string,
    @GroupIdParam('memberId', 'A user id or a group id') memberId: string,
    @Body() body: UpdateProjectMemberDto,
  ): Promise<ProjectMemberDto> {
    return this.members.changeRole(p, id, memberId, body.role);
  }

  @ProjectAccess('projects.members.manage')
  @Delete(':id/members/:memberId')
  @HttpCode(204)
  @ApiOperation({ operationId: 'removeProjectMember', summary: 'Remove a member' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems(400, 401, 403, 404, 422)
  async removeMember(
    @CurrentPrincipal() p: Principal,
    @IdParam('id') id: string,
    @GroupIdParam('memberId', 'A user id or a group id') memberId: string,
  ): Promise<void> {
    await this.members.remove(p, id, memberId);
  }

  @ProjectAccess('projects.read')
  @HotRead()
  @Get(':id/permissions')
  @ApiOperation({
    operationId: 'getProjectPermissions',
    summary: "A user's effective permissions in a project",
  })
  @ApiOkResponse({ type: ProjectPermissionsDto })
  @ApiProblems(400, 401, 403, 404)
  permissions(
    @CurrentPrincipal() p: Principal,
    @IdParam('id') _id: string,
    @CheckedProject() v: ProjectView,
    @Query() q: PermissionsQuery,
  ): Promise<ProjectPermissionsDto> {
    return this.projects.permissions(p, v, q.userId, q.explain ?? false);
  }
}
