import { Module } from '@nestjs/common';
import { GroupsModule } from '../groups/groups.module.js';
import { UsersModule } from '../users/users.module.js';
import { WorkspacesModule } from '../workspaces/workspaces.module.js';
import { ProjectAccessService } from './project-access.service.js';
import { ProjectMembersService } from './project-members.service.js';
import { ProjectsController } from './projects.controller.js';
import { ProjectsRepository } from './projects.repository.js';
import { ProjectsService } from './projects.service.js';

@Module({
  imports: [UsersModule, WorkspacesModule, GroupsModule],
  controllers: [ProjectsController],
  providers: [ProjectsRepository, ProjectAccessService, ProjectsService, ProjectMembersService],
  // ProjectsService.permissionsByProject narrows credentials (API keys, grants) in the auth module.
  exports: [ProjectsService],
})
export class ProjectsModule {}
