import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
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
import {
  AddGroupMemberDto,
  CreateGroupDto,
  GetGroupQuery,
  ListGroupsQuery,
  UpdateGroupDto,
} from '#src/tenancy/groups/dto/group.dto.js';
import { GroupPage, GroupResponseDto } from '#src/tenancy/groups/dto/group.responses.js';
import { GroupIdParam } from '#src/tenancy/groups/group-id.js';
import { GroupsService } from '#src/tenancy/groups/groups.service.js';
import {
  CheckedGroup,
  GroupAccess,
  WorkspaceAccess,
} from '#src/tenancy/access/access.decorators.js';
import type { GroupAccess as GroupView } from '#src/tenancy/access/access.service.js';

// Who may see or change a group depends on data (owner, member, workspace admin): checked in the service.
@ApiTags('groups')
@Controller('groups')
export class GroupsController {
  constructor(private readonly groups: GroupsService) {}

  @WorkspaceAccess('contributor', 'workspace', 'body')
  @Post()
  @ApiOperation({ operationId: 'createGroup', summary: 'Create a group owned by the caller' })
  @ApiCreatedResponse({ type: GroupResponseDto })
  @ApiProblems(400, 401, 403, 404, 409, 422)
  create(
    @CurrentPrincipal() p: Principal,
    @Body() body: CreateGroupDto,
  ): Promise<GroupResponseDto> {
    return this.groups.create(p, body);
  }

  @WorkspaceAccess('member', 'workspace', 'query')
  @Get()
  @ApiOperation({ operationId: 'listGroups', summary: 'Groups the caller is a member of' })
  @ApiOkResponse({ type: GroupPage })
  @ApiProblems(400, 401, 403, 404)
  list(@CurrentPrincipal() p: Principal, @Query() q: ListGroupsQuery): Promise<GroupPage> {
    return this.groups.list(p, q);
  }

  @GroupAccess('member')
  @Get(':id')
  @ApiOperation({ operationId: 'getGroup', summary: 'A group with its members' })
  @ApiOkResponse({ type: GroupResponseDto })
  @ApiProblems(400, 401, 403, 404)
  get(
    @CurrentPrincipal() p: Principal,
    // :id is validated and documented here; the group itself is what the guard read.
    @GroupIdParam('id') _id: string,
    @CheckedGroup() a: GroupView,
    @Query() q: GetGroupQuery,
  ): Promise<GroupResponseDto> {
    return this.groups.get(p, a, q.includeProjects ?? false);
  }

  @GroupAccess('manager')
  @Patch(':id')
  @ApiOperation({ operationId: 'updateGroup', summary: 'Rename; replace members or projects' })
  @ApiOkResponse({ type: GroupResponseDto })
  @ApiProblems(400, 401, 403, 404, 409, 422)
  update(
    @CurrentPrincipal() p: Principal,
    @GroupIdParam('id') id: string,
    @Body() body: UpdateGroupDto,
  ): Promise<GroupResponseDto> {
    return this.groups.update(p, id, body);
  }

  @GroupAccess('deleter')
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteGroup', summary: 'Delete a group and its memberships' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 401, 403, 404)
  async remove(@CurrentPrincipal() p: Principal, @GroupIdParam('id') id: string): Promise<void> {
    await this.groups.remove(p, id);
  }

  @GroupAccess('manager')
  @Post(':id/members')
  @ApiOperation({ operationId: 'addGroupMember', summary: 'Add one member' })
  @ApiCreatedResponse({ type: GroupResponseDto })
  @ApiProblems(400, 401, 403, 404, 409, 422)
  addMember(
    @CurrentPrincipal() p: Principal,
    @GroupIdParam('id') id: string,
    @Body() body: AddGroupMemberDto,
  ): Promise<GroupResponseDto> {
    return this.groups.addMember(p, id, body.userId);
  }

  @GroupAccess('manager')
  @Delete(':id/members/:userId')
  @HttpCode(204)
  @ApiOperation({ operationId: 'removeGroupMember', summary: 'Remove one member' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiProblems(400, 401, 403, 404, 422)
  async removeMember(
    @CurrentPrincipal() p: Principal,
    @GroupIdParam('id') id: string,
    @IdParam('userId') userId: string,
  ): Promise<void> {
    await this.groups.removeMember(p, id, userId);
  }
}
