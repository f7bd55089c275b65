import { Module } from '@nestjs/common';
import { AuthModule } from '#src/auth/auth.module.js';
import { UsersModule } from '#src/users/users.module.js';
import { AccessRepository } from '#src/tenancy/access/access.repository.js';
import { AccessService } from '#src/tenancy/access/access.service.js';
import { GroupProjectsService } from '#src/tenancy/groups/group-projects.service.js';
import { GroupsController } from '#src/tenancy/groups/groups.controller.js';
import { GroupsRepository } from '#src/tenancy/groups/groups.repository.js';
import { GroupsService } from '#src/tenancy/groups/groups.service.js';
import { ProjectMembersService } from '#src/tenancy/projects/project-members.service.js';
import { ProjectsController } from '#src/tenancy/projects/projects.controller.js';
import { ProjectsRepository } from '#src/tenancy/projects/projects.repository.js';
import { ProjectsService } from '#src/tenancy/projects/projects.service.js';
import { WorkspacesController } from '#src/tenancy/workspaces/workspaces.controller.js';
import { WorkspacesRepository } from '#src/tenancy/workspaces/workspaces.repository.js';
import { WorkspacesService } from '#src/tenancy/workspaces/workspaces.service.js';
import { InvitationsController } from '#src/tenancy/invitations/invitations.controller.js';
import { InvitationsRepository } from '#src/tenancy/invitations/invitations.repository.js';
import { InvitationsService } from '#src/tenancy/invitations/invitations.service.js';
import { InvitePageController } from '#src/tenancy/invitations/invite-page.controller.js';
import { OptionalPrincipal } from '#src/tenancy/invitations/optional-principal.js';
import { WorkspaceProvisioningService } from '#src/tenancy/workspaces/workspace-provisioning.service.js';

/**
 * Workspaces, groups and projects: one aggregate, one module. Every access decision goes through
 * AccessService; the modules above (credentials, user administration) use only what is exported.
 */
@Module({
  imports: [UsersModule, AuthModule],
  controllers: [
    WorkspacesController,
    GroupsController,
    ProjectsController,
    InvitationsController,
    InvitePageController,
  ],
  providers: [
    AccessRepository,
    AccessService,
    WorkspacesRepository,
    WorkspacesService,
    GroupsRepository,
    GroupsService,
    GroupProjectsService,
    ProjectsRepository,
    ProjectsService,
    ProjectMembersService,
    InvitationsRepository,
    InvitationsService,
    OptionalPrincipal,
    WorkspaceProvisioningService,
  ],
  exports: [AccessService, WorkspaceProvisioningService],
})
export class TenancyModule {}
