import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CryptoModule } from '#src/crypto/crypto.module.js';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';
import { PermissionsController } from '#src/users/permissions.controller.js';
import { RolesController } from '#src/users/roles.controller.js';
import { RolesRepository } from '#src/users/roles.repository.js';
import { RolesService } from '#src/users/roles.service.js';
import { UserManagementService } from '#src/users/user-management.service.js';
import { UsersRepository } from '#src/users/users.repository.js';
import { UsersService } from '#src/users/users.service.js';

@Module({
  imports: [CryptoModule, DiscoveryModule],
  controllers: [RolesController, PermissionsController],
  providers: [
    UsersRepository,
    UsersService,
    UserManagementService,
    RolesRepository,
    RolesService,
    PermissionCatalogue,
  ],
  exports: [UsersService, UserManagementService, PermissionCatalogue],
})
export class UsersModule {}
