import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { CreateRoleDto, ListRolesQuery, UpdateRoleDto } from '#src/users/dto/roles.dto.js';
import { RolesService } from '#src/users/roles.service.js';

@ApiTags('roles')
@Controller('roles')
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Authenticated()
  @Get()
  list(@Query() q: ListRolesQuery) {
    return this.roles.list(q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'roles.manage' })
  @Post()
  create(@CurrentPrincipal() p: Principal, @Body() body: CreateRoleDto) {
    return this.roles.create(p, body);
  }

  @Authenticated({ permission: 'roles.manage' })
  @Patch(':name')
  update(
    @CurrentPrincipal() p: Principal,
    @Param('name') name: string,
    @Body() body: UpdateRoleDto,
  ) {
    return this.roles.update(p, name, body);
  }

  @Authenticated({ permission: 'roles.manage' })
  @Delete(':name')
  @HttpCode(204)
  async delete(@CurrentPrincipal() p: Principal, @Param('name') name: string): Promise<void> {
    await this.roles.delete(p, name);
  }
}
