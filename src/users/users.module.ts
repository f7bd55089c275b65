import { Module } from '@nestjs/common';
import { PasswordsModule } from '../auth/passwords/passwords.module.js';
import { PermissionCatalogue } from './permission-catalogue.js';
import { PermissionsController } from './permissions.controller.js';
import { UsersRepository } from './users.repository.js';
import { UsersService } from './users.service.js';

@Module({
  imports: [PasswordsModule],
  controllers: [PermissionsController],
  providers: [UsersRepository, UsersService, PermissionCatalogue],
  exports: [UsersService, PermissionCatalogue],
})
export class UsersModule {}
