import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../auth/auth.decorators.js';
import { PermissionCatalogue } from './permission-catalogue.js';

@ApiTags('roles')
@Controller('permissions')
export class PermissionsController {
  constructor(private readonly catalogue: PermissionCatalogue) {}

  @Authenticated()
  @Get()
  list() {
    return { items: this.catalogue.list(), nextCursor: null };
  }
}
