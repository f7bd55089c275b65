import { Module } from '@nestjs/common';
import { TenancyModule } from '#src/tenancy/tenancy.module.js';
import { UsersModule } from '#src/users/users.module.js';
import { ScimAuthGuard } from '#src/scim/scim-auth.guard.js';
import { ScimController } from '#src/scim/scim.controller.js';
import { ScimGroupsService } from '#src/scim/scim-groups.service.js';
import { ScimRepository } from '#src/scim/scim.repository.js';
import { ScimTokensController } from '#src/scim/scim-tokens.controller.js';
import { ScimTokensRepository } from '#src/scim/scim-tokens.repository.js';
import { ScimTokensService } from '#src/scim/scim-tokens.service.js';
import { ScimUsersService } from '#src/scim/scim-users.service.js';

/** SCIM 2.0 provisioning per workspace (/scim/v2) and the workspace SCIM tokens. */
@Module({
  imports: [UsersModule, TenancyModule],
  controllers: [ScimTokensController, ScimController],
  providers: [
    ScimTokensRepository,
    ScimTokensService,
    ScimRepository,
    ScimUsersService,
    ScimGroupsService,
    ScimAuthGuard,
  ],
})
export class ScimModule {}
