import { Injectable } from '@nestjs/common';
import { Brackets, DataSource, In } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { asRow } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';
import { Workspace, WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import { Group, GroupMember } from '#src/tenancy/entities/group.entity.js';

export interface GroupMemberRow {
  groupId: string;
  id: string;
  email: string;
  fullName: string | null;
  role: string;
  status: string;
}

export interface GroupListRow {
  group: Group;
  domain: string;
}

@Injectable()
export class GroupsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(tx?: Tx): Tx {
    return tx ?? this.dataSource.manager;
  }

  /** The group with exactly this id (MySQL's collation would also match another case). */
  async findById(id: string, tx?: Tx): Promise<Group | null> {
    const g = await this.m(tx).getRepository(Group).findOne({ where: { id } });
    return g && g.id === id ? g : null;
  }

  /** Whether a group id equal to this one but for case exists (ids are unique case-insensitively). */
  async idTaken(tx: Tx, id: string): Promise<boolean> {
    const n = await tx
      .getRepository(Group)
      .createQueryBuilder('g')
      .where('LOWER(g.id) = :id', { id: id.toLowerCase() })
      .getCount();
    return n > 0;
  }

  isMember(groupId: string, userId: string, tx?: Tx): Promise<boolean> {
    return this.m(tx).getRepository(GroupMember).exists({ where: { groupId, userId } });
  }

  async insert(tx: Tx, g: Group): Promise<void> {
    await tx.getRepository(Group).insert(asRow(g));
  }

  async update(tx: Tx, g: Group, changes: Partial<Group>): Promise<void> {
    await tx
      .getRepository(Group)
      .update({ id: g.id }, asRow({ ...changes, updatedAt: new Date(), version: g.version + 1 }));
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.getRepository(GroupMember).delete({ groupId: id });
    await tx.getRepository(Group).delete({ id });
  }

  async memberIds(tx: Tx, groupId: string): Promise<string[]> {
    const rows = await tx.getRepository(GroupMember).find({ where: { groupId } });
    return rows.map((r) => r.userId);
  }

  async addMembers(tx: Tx, groupId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    const now = new Date();
    await tx
      .getRepository(GroupMember)
      .insert(userIds.map((userId) => ({ groupId, userId, createdAt: now })));
  }

  async removeMembers(tx: Tx, groupId: string, userIds: string[]): Promise<void> {
    if (userIds.length === 0) return;
    await tx.getRepository(GroupMember).delete({ groupId, userId: In(userIds) });
  }

  /** Members of several groups with their user record, in one query. */
  membersOf(groupIds: string[], tx?: Tx): Promise<GroupMemberRow[]> {
    if (groupIds.length === 0) return Promise.resolve([]);
    return this.m(tx)
      .getRepository(GroupMember)
      .createQueryBuilder('gm')
      .innerJoin(User, 'u', 'u.id = gm.userId')
      .select([
        'gm.groupId AS groupId',
        'u.id AS id',
        'u.email AS email',
        'u.fullName AS fullName',
        'u.role AS role',
        'u.status AS status',
      ])
      .where('gm.groupId IN (:...groupIds)', { groupIds })
      .orderBy('u.emailNormalized', 'ASC')
      .getRawMany<GroupMemberRow>();
  }

  /**
   * Groups the user may see: every group for `all` (server admins); otherwise, in workspaces they
   * belong to, the groups they own or are a member of, and every group where they are workspace admin.
   */
  async listVisible(opts: {
    userId: string;
    all: boolean;
    workspaceId: string | null;
    projectId: string | null;
    after: string | null;
    limit: number;
  }): Promise<GroupListRow[]> {
    const qb = this.dataSource
      .getRepository(Group)
      .createQueryBuilder('g')
      .innerJoin(Workspace, 'w', 'w.id = g.workspaceId')
      .addSelect('w.domain', 'ws_domain');
    if (!opts.all) {
      qb.innerJoin(
        WorkspaceMember,
        'wm',
        'wm.workspaceId = g.workspaceId AND wm.userId = :u AND wm.suspended = 0',
        {
          u: opts.userId,
        },
      ).andWhere(
        new Brackets((w) => {
          w.where("wm.role = 'admin'")
            .orWhere('g.ownerId = :u', { u: opts.userId })
            .orWhere(
              'EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = g.id AND gm.user_id = :u)',
              { u: opts.userId },
            );
        }),
      );
    }
    if (opts.workspaceId !== null) qb.andWhere('g.workspaceId = :ws', { ws: opts.workspaceId });
    if (opts.projectId !== null) qb.andWhere('g.projectId = :pid', { pid: opts.projectId });
    if (opts.after !== null) qb.andWhere('g.id > :after', { after: opts.after });
    const { entities, raw } = await qb
      .orderBy('g.id', 'ASC')
      .limit(opts.limit)
      .getRawAndEntities<{ ws_domain: string }>();
    return entities.map((group, i) => ({ group, domain: raw[i]?.ws_domain ?? '' }));
  }

  async removeUserFromWorkspaceGroups(tx: Tx, workspaceId: string, userId: string): Promise<void> {
    await tx
      .getRepository(GroupMember)
      .createQueryBuilder()
      .delete()
      .where('user_id = :userId', { userId })
      .andWhere(
        'group_id IN (SELECT g.id FROM user_groups g WHERE g.workspace_id = :workspaceId)',
        {
          workspaceId,
        },
      )
      .execute();
  }

  /** Deletes the groups of a workspace (or of one project) and their members. */
  async deleteWhere(tx: Tx, where: { workspaceId: string } | { projectId: string }): Promise<void> {
    const [column, value] =
      'workspaceId' in where
        ? ['workspace_id', where.workspaceId]
        : ['project_id', where.projectId];
    await tx
      .getRepository(GroupMember)
      .createQueryBuilder()
      .delete()
      .where(`group_id IN (SELECT g.id FROM user_groups g WHERE g.${column} = :value)`, { value })
      .execute();
    await tx
      .getRepository(Group)
      .createQueryBuilder()
      .delete()
      .where(`${column} = :value`, { value })
      .execute();
  }
}
