import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import {
  AddGroupMemberDto,
  CreateGroupDto,
  GetGroupQuery,
  ListGroupsQuery,
  UpdateGroupDto,
} from '#src/tenancy/groups/dto/group.dto.js';
import { GroupsService } from '#src/tenancy/groups/groups.service.js';
import { GroupAccess, WorkspaceAccess } from '#src/tenancy/access/access.decorators.js';

// Who may see or change a group depends on data (owner, member, workspace admin): checked in the service.
@ApiTags('groups')
@Controller('groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @WorkspaceAccess('contributor', 'workspace', 'body')
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateGroupDto) {
    return this.groups.create(p, body);
  }

  @WorkspaceAccess('member', 'workspace', 'query')
  @Get()
  list(@CurrentPrincipal() p: Principal, @Query() q: ListGroupsQuery) {
    return this.groups.list(p, q);
  }

  @GroupAccess('member')
  @Get(':id')
  get(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: GetGroupQuery) {
    return this.groups.get(p, id, q.includeProjects ?? false);
  }

  @GroupAccess('manager')
  @Patch(':id')
  update(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: UpdateGroupDto) {
    return this.groups.update(p, id, body);
  }

  @GroupAccess('deleter')
  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() p: Principal, @Param('id') id: string): Promise<void> {
    await this.groups.remove(p, id);
  }

  @GroupAccess('manager')
  @Post(':id/members')
  addMember(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Body() body: AddGroupMemberDto,
  ) {
    return this.groups.addMember(p, id, body.userId);
  }

  @GroupAccess('manager')
  @Delete(':id/members/:userId')
  @HttpCode(204)
  async removeMember(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('userId') userId: string,
  ): Promise<void> {
    await this.groups.removeMember(p, id, userId);
  }
}
