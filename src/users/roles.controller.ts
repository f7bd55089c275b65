import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { CreateRoleDto, ListRolesQuery, UpdateRoleDto } from '#src/users/dto/roles.dto.js';
import { RolePage, RoleResponseDto } from '#src/users/dto/user.responses.js';
import { RolesService } from '#src/users/roles.service.js';

@ApiTags('roles')
@Controller('roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Authenticated()
  @Get()
  @ApiOperation({ operationId: 'listRoles', summary: 'Named server-level roles' })
  @ApiOkResponse({ type: RolePage })
  @ApiProblems(400, 401)
  list(@Query() q: ListRolesQuery): Promise<RolePage> {
    return this.roles.list(q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'roles.manage' })
  @Post()
  @ApiOperation({ operationId: 'createRole', summary: 'Create a named role' })
  @ApiCreatedResponse({ type: RoleResponseDto })
  @ApiProblems(400, 401, 403, 409)
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateRoleDto): Promise<RoleResponseDto> {
    return this.roles.create(p, body);
  }

  @Authenticated({ permission: 'roles.manage' })
  @Patch(':name')
  @ApiOperation({ operationId: 'updateRole', summary: 'Change a named role' })
  @ApiOkResponse({ type: RoleResponseDto })
  @ApiProblems(400, 401, 403, 404, 409)
  update(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: UpdateRoleDto,
  ): Promise<RoleResponseDto> {
    return this.roles.update(p, name, body);
  }

  @Authenticated({ permission: 'roles.manage' })
  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteRole', summary: 'Delete a named role' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(401, 403, 404, 409)
  async delete(@CurrentPrincipal() p: Principal, @Param('name') name: string): Promise<void> {
    await this.roles.delete(p, name);
  }
}
