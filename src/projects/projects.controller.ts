import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/principal.js';
import { PageQuery } from '../common/http/pagination.js';
import {
  AddProjectMemberDto,
  CreateProjectDto,
  ListProjectsQuery,
  PermissionsQuery,
  UpdateProjectDto,
  UpdateProjectMemberDto,
} from './dto/project.dto.js';
import { ProjectMembersService } from './project-members.service.js';
import { ProjectsService } from './projects.service.js';

// Project permissions depend on memberships: checked in the services (a project you may not see is 404).
@ApiTags('projects')
@Controller('projects')
export class ProjectsController {
  constructor(
    private readonly projects: ProjectsService,
    private readonly members: ProjectMembersService,
  ) {}

  @Authenticated()
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateProjectDto) {
    return this.projects.create(p, body.name, body.workspace);
  }

  @Authenticated()
  @Get()
  list(@CurrentPrincipal() p: Principal, @Query() q: ListProjectsQuery) {
    return this.projects.list(p, q);
  }

  @Authenticated()
  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string) {
    return this.projects.get(p, id);
  }

  @Authenticated()
  @Patch(':id')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() body: UpdateProjectDto,
  ) {
    return this.projects.update(p, id, body.name);
  }

  @Authenticated()
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.projects.remove(p, id);
  }

  @Authenticated()
  @Get(':id/members')
  listMembers(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: PageQuery) {
    return this.members.list(p, id, q.limit ?? 50, q.cursor);
  }

  @Authenticated()
  @Post(':id/members')
  addMember(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() body: AddProjectMemberDto,
  ) {
    return this.members.add(p, id, body);
  }

  @Authenticated()
  @Patch(':id/members/:memberId')
  changeMember(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('memberId') memberId: string,
    @Body() body: UpdateProjectMemberDto,
  ) {
    return this.members.changeRole(p, id, memberId, body.role);
  }

  @Authenticated()
  @Delete(':id/members/:memberId')
  @HttpCode(204)
  async removeMember(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('memberId') memberId: string,
  ): Promise<void> {
    await this.members.remove(p, id, memberId);
  }

  @Authenticated()
  @Get(':id/permissions')
  permissions(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Query() q: PermissionsQuery,
  ) {
    return this.projects.permissions(p, id, q.userId, q.explain ?? false);
  }
}
