import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { Authenticated } from '#src/kernel/auth.decorators.js';
import { PageQuery } from '#src/common/http/pagination.js';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';
import { PermissionTypePage } from '#src/users/dto/user.responses.js';

@ApiTags('roles')
@Controller('permissions')
export class PermissionsController {
  constructor(private readonly catalogue: PermissionCatalogue) {}

  @Authenticated()
  @Get()
  @ApiOperation({
    operationId: 'listPermissions',
    summary: 'Every permission type the server knows',
  })
  @ApiOkResponse({ type: PermissionTypePage })
  @ApiProblems(400, 401)
  list(@Query() q: PageQuery): PermissionTypePage {
    return this.catalogue.page(q.limit ?? 50, q.cursor);
  }
}
