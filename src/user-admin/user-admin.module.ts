import { Module } from '@nestjs/common';
import { TenancyModule } from '#src/tenancy/tenancy.module.js';
import { UserAdminService } from '#src/user-admin/user-admin.service.js';
import { UsersController } from '#src/user-admin/users.controller.js';
import { UsersModule } from '#src/users/users.module.js';

/** The /users routes, above the modules they compose (users, tenancy). */
@Module({
  imports: [UsersModule, TenancyModule],
  controllers: [UsersController],
  providers: [UserAdminService],
})
export class UserAdminModule {}
