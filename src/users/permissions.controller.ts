import { Controller, Get, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authenticated } from '#src/kernel/auth.decorators.js';
import { PageQuery } from '#src/common/http/pagination.js';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';

@ApiTags('roles')
@Controller('permissions')
export class PermissionsController {
  constructor(private readonly catalogue: PermissionCatalogue) {}

  @Authenticated()
  @Get()
  list(@Query() q: PageQuery) {
    return this.catalogue.page(q.limit ?? 50, q.cursor);
  }
}
