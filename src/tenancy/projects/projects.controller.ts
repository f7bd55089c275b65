import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { PageQuery } from '#src/common/http/pagination.js';
import {
  AddProjectMemberDto,
  CreateProjectDto,
  ListProjectsQuery,
  PermissionsQuery,
  UpdateProjectDto,
  UpdateProjectMemberDto,
} from '#src/tenancy/projects/dto/project.dto.js';
import { ProjectMembersService } from '#src/tenancy/projects/project-members.service.js';
import { ProjectsService } from '#src/tenancy/projects/projects.service.js';
import { ProjectAccess, WorkspaceAccess } from '#src/tenancy/access/access.decorators.js';

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
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateProjectDto) {
    return this.projects.create(p, body.name, body.workspace);
  }

  @WorkspaceAccess('member', 'workspace', 'query')
  @Get()
  list(@CurrentPrincipal() p: Principal, @Query() q: ListProjectsQuery) {
    return this.projects.list(p, q);
  }

  @ProjectAccess('projects.read')
  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.projects.get(p, id);
  }

  @ProjectAccess('projects.update')
  @Patch(':id')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() body: UpdateProjectDto,
  ) {
    return this.projects.update(p, id, body.name);
  }

  @ProjectAccess('projects.delete')
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.projects.remove(p, id);
  }

  @ProjectAccess('projects.members.read')
  @Get(':id/members')
  listMembers(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: PageQuery) {
    return this.members.list(p, id, q.limit ?? 50, q.cursor);
  }

  @ProjectAccess('projects.members.manage')
  @Post(':id/members')
  addMember(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() body: AddProjectMemberDto,
  ) {
    return this.members.add(p, id, body);
  }

  @ProjectAccess('projects.members.manage')
  @Patch(':id/members/:memberId')
  changeMember(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('memberId') memberId: string,
    @Body() body: UpdateProjectMemberDto,
  ) {
    return this.members.changeRole(p, id, memberId, body.role);
  }

  @ProjectAccess('projects.members.manage')
  @Delete(':id/members/:memberId')
  @HttpCode(204)
  async removeMember(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('memberId') memberId: string,
  ): Promise<void> {
    await this.members.remove(p, id, memberId);
  }

  @ProjectAccess('projects.read')
  @Get(':id/permissions')
  permissions(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query() q: PermissionsQuery,
  ) {
    return this.projects.permissions(p, id, q.userId, q.explain ?? false);
  }
}
