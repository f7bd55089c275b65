import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import type { Page } from '#src/common/http/pagination.js';
import { can } from '#src/kernel/anti-escalation.js';
import type { Principal } from '#src/kernel/principal.js';
import { AccessService, type UserProject } from '#src/tenancy/access/access.service.js';
import type { ListUsersQuery } from '#src/users/dto/users.dto.js';
import type { UserDetailResponse, UserResponse } from '#src/users/user.mapper.js';
import { UserManagementService } from '#src/users/user-management.service.js';

/**
 * The parts of the /users routes that need tenancy as well as the users module: who a workspace
 * admin may list, and the projects shown with a user. Everything else is UserManagementService's.
 */
@Injectable()
export class UserAdminService {
  constructor(
    private readonly users: UserManagementService,
    private readonly access: AccessService,
  ) {}

  /** Admins (users.read) see everyone; workspace admins see the members of their workspaces. */
  async list(p: Principal, q: ListUsersQuery): Promise<Page<UserResponse | UserDetailResponse>> {
    if (can(p, 'users.read')) return this.users.list(q);
    const visible = await this.access.membersOfAdministeredWorkspaces(p.userId);
    if (visible === null)
      throw AppException.forbidden('Listing users needs users.read or a workspace you administer.');
    return this.users.list(q, visible);
  }

  /** One user, with (on request) their projects that the caller may see. */
  get(
    p: Principal,
    id: string,
    includeProjects = false,
  ): Promise<UserDetailResponse & { projects?: UserProject[] }> {
    // GET /users/me passes straight through (it runs on every whoami).
    if (!includeProjects) return this.users.get(p, id);
    return this.users
      .get(p, id)
      .then(async (user) => ({ ...user, projects: await this.access.projectsOfUser(user.id, p) }));
  }
}
