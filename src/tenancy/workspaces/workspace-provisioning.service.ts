import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { isUniqueViolation, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { AuditService } from '#src/audit/audit.service.js';
import { AccessRepository } from '#src/tenancy/access/access.repository.js';
import { Group } from '#src/tenancy/entities/group.entity.js';
import {
  WorkspaceMember,
  type Workspace,
  type WorkspaceRole,
} from '#src/tenancy/entities/workspace.entity.js';
import { GroupsRepository } from '#src/tenancy/groups/groups.repository.js';
import { ProjectsRepository } from '#src/tenancy/projects/projects.repository.js';
import { WorkspacesRepository } from '#src/tenancy/workspaces/workspaces.repository.js';

export interface MembershipState {
  userId: string;
  role: WorkspaceRole;
  suspended: boolean;
  createdAt: Date;
}

const state = (m: WorkspaceMember): MembershipState => ({
  userId: m.userId,
  role: m.role,
  suspended: m.suspended,
  createdAt: m.createdAt,
});

/**
 * What a workspace's provisioning client (SCIM) may do to that workspace, and nothing else: add,
 * suspend and remove members, and manage the workspace's own groups. Every method runs in the
 * caller's transaction, takes the workspace id the client's token is bound to, and writes the
 * audit entry with the provisioning client as the actor. No method reads or writes another
 * workspace's rows.
 */
@Injectable()
export class WorkspaceProvisioningService {
  constructor(
    private readonly repo: WorkspacesRepository,
    private readonly groups: GroupsRepository,
    private readonly projects: ProjectsRepository,
    private readonly audit: AuditService,
    private readonly access: AccessRepository,
  ) {}

  findWorkspace(id: string, tx?: Tx): Promise<Workspace | null> {
    return this.repo.findById(id, tx);
  }

  /** The user's membership of the workspace, locked for the transaction; null when none. */
  async lockMembership(
    tx: Tx,
    workspaceId: string,
    userId: string,
  ): Promise<MembershipState | null> {
    const m = await this.repo.lockMember(tx, workspaceId, userId);
    return m ? state(m) : null;
  }

  /** The memberships of these users in the workspace (non-members are left out). */
  async memberships(workspaceId: string, userIds: string[], tx?: Tx): Promise<MembershipState[]> {
    return (await this.repo.membersAmong(workspaceId, userIds, tx)).map(state);
  }

  /** Whether the user also belongs to another workspace. */
  memberElsewhere(tx: Tx, userId: string, workspaceId: string): Promise<boolean> {
    return this.repo.memberElsewhere(tx, userId, workspaceId);
  }

  /** Adds the user as a workspace `user` (suspended when the client says `active: false`). */
  async addMember(
    tx: Tx,
    workspaceId: string,
    userId: string,
    suspended: boolean,
    actorId: string,
  ): Promise<void> {
    const m = new WorkspaceMember();
    m.workspaceId = workspaceId;
    m.userId = userId;
    m.role = 'user';
    m.suspended = suspended;
    m.createdAt = new Date();
    await this.repo.insertMember(tx, m);
    await this.audit.record(tx, {
      actorId,
      action: 'workspace.member_add',
      targetType: 'workspace',
      targetId: workspaceId,
      changes: { userId, role: { from: null, to: 'user' }, suspended, via: 'scim' },
    });
  }

  async setSuspended(
    tx: Tx,
    workspaceId: string,
    userId: string,
    suspended: boolean,
    actorId: string,
  ): Promise<void> {
    await this.repo.setSuspended(tx, workspaceId, userId, suspended);
    await this.audit.record(tx, {
      actorId,
      action: suspended ? 'workspace.member_suspend' : 'workspace.member_unsuspend',
      targetType: 'workspace',
      targetId: workspaceId,
      changes: { userId, suspended: { from: !suspended, to: suspended }, via: 'scim' },
    });
  }

  /** Removes the member and their group and project memberships here. The last admin: 422. */
  async removeMember(tx: Tx, workspaceId: string, userId: string, actorId: string): Promise<void> {
    const existing = await this.repo.lockMember(tx, workspaceId, userId);
    if (!existing) throw AppException.notFound('Workspace member');
    if (existing.role === 'admin') {
      const admins = await this.repo.lockAdmins(tx, workspaceId);
      if (admins.length <= 1)
        throw AppException.rule(
          'last_workspace_admin',
          'A workspace keeps at least one admin: make someone else admin first.',
        );
    }
    await this.groups.removeUserFromWorkspaceGroups(tx, workspaceId, userId);
    await this.projects.removeUserFromWorkspaceProjects(tx, workspaceId, userId);
    await this.repo.deleteMember(tx, workspaceId, userId);
    await this.audit.record(tx, {
      actorId,
      action: 'workspace.member_remove',
      targetType: 'workspace',
      targetId: workspaceId,
      changes: { userId, role: { from: existing.role, to: null }, via: 'scim' },
    });
  }

  // Groups: the workspace's own groups (not those scoped to one of its projects).

  /** The workspace-level group, locked when asked; null when it is not one of this workspace's. */
  async findGroup(
    tx: Tx,
    workspaceId: string,
    groupId: string,
    lock = false,
  ): Promise<Group | null> {
    const g = await this.access.group(groupId, tx, lock);
    return g && g.workspaceId === workspaceId && g.projectId === null ? g : null;
  }

  /** Of these ids, the workspace-level groups of this workspace. */
  async findGroups(workspaceId: string, ids: string[], tx?: Tx): Promise<Group[]> {
    const found = await Promise.all(ids.map((id) => this.groups.findById(id, tx)));
    return found.filter(
      (g): g is Group => g !== null && g.workspaceId === workspaceId && g.projectId === null,
    );
  }

  async groupMemberIds(tx: Tx, groupId: string): Promise<string[]> {
    return this.groups.memberIds(tx, groupId);
  }

  async createGroup(
    tx: Tx,
    workspaceId: string,
    name: string,
    memberIds: string[],
    actorId: string,
  ): Promise<Group> {
    const members = [...new Set(memberIds)];
    await this.assertMembers(tx, workspaceId, members);
    const g = new Group();
    g.id = newId();
    g.workspaceId = workspaceId;
    g.projectId = null;
    g.scopeKey = workspaceId;
    g.name = name.trim();
    g.nameNormalized = g.name.toLowerCase();
    g.ownerId = null;
    g.settings = {};
    g.createdAt = new Date();
    g.updatedAt = g.createdAt;
    g.version = 1;
    await this.uniqueName(() => this.groups.insert(tx, g));
    await this.groups.addMembers(tx, g.id, members);
    await this.audit.record(tx, {
      actorId,
      action: 'group.create',
      targetType: 'group',
      targetId: g.id,
      changes: { name: g.name, workspaceId, projectId: null, ownerId: null, members, via: 'scim' },
    });
    return g;
  }

  /** Renames and changes members in one step; the group's row version and time move on. */
  async updateGroup(
    tx: Tx,
    group: Group,
    changes: { name?: string; add?: string[]; remove?: string[] },
    actorId: string,
  ): Promise<void> {
    const have = await this.groups.memberIds(tx, group.id);
    const added = [...new Set(changes.add ?? [])].filter((u) => !have.includes(u));
    const removed = [...new Set(changes.remove ?? [])].filter((u) => have.includes(u));
    const audit: Record<string, unknown> = {};
    const row: Partial<Group> = {};
    if (changes.name !== undefined && changes.name.trim() !== group.name) {
      row.name = changes.name.trim();
      row.nameNormalized = row.name.toLowerCase();
      audit.name = { from: group.name, to: row.name };
    }
    await this.assertMembers(tx, group.workspaceId, added);
    if (added.length || removed.length) audit.members = { added, removed };
    if (Object.keys(audit).length === 0) return;
    await this.uniqueName(() => this.groups.update(tx, group, row));
    await this.groups.removeMembers(tx, group.id, removed);
    await this.groups.addMembers(tx, group.id, added);
    await this.audit.record(tx, {
      actorId,
      action: 'group.update',
      targetType: 'group',
      targetId: group.id,
      changes: { ...audit, via: 'scim' },
    });
  }

  async deleteGroup(tx: Tx, group: Group, actorId: string): Promise<void> {
    const members = await this.groups.memberIds(tx, group.id);
    await this.groups.delete(tx, group.id);
    await this.audit.record(tx, {
      actorId,
      action: 'group.delete',
      targetType: 'group',
      targetId: group.id,
      changes: {
        before: { name: group.name, workspaceId: group.workspaceId, members },
        via: 'scim',
      },
    });
  }

  /** Group members come from the group's workspace only (isolation). */
  private async assertMembers(tx: Tx, workspaceId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    const found = await this.repo.membersAmong(workspaceId, userIds, tx);
    const outside = userIds.filter((id) => !found.some((m) => m.userId === id));
    if (outside.length)
      throw AppException.invalid(
        'members',
        `not members of this workspace: ${outside.slice(0, 5).join(', ')}`,
      );
  }

  private async uniqueName(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (isUniqueViolation(err))
        throw AppException.conflict('A group with this name already exists here.', 'displayName');
      throw err;
    }
  }
}
