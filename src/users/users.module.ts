import { Module } from '@nestjs/common';
import { PasswordsModule } from '../auth/passwords/passwords.module.js';
import { PermissionCatalogue } from './permission-catalogue.js';
import { PermissionsController } from './permissions.controller.js';
import { RolesController } from './roles.controller.js';
import { RolesRepository } from './roles.repository.js';
import { RolesService } from './roles.service.js';
import { UsersAdminService } from './users-admin.service.js';
import { UsersController } from './users.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [PasswordsModule],
  controllers: [UsersController, RolesController, PermissionsController],
  providers: [
    UsersRepository,
    UsersService,
    UsersAdminService,
    RolesRepository,
    RolesService,
    PermissionCatalogue,
  ],
  exports: [UsersService, PermissionCatalogue],
})
export class UsersModule {}
