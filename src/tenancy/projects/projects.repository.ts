import { Injectable } from '@nestjs/common';
import { Brackets, DataSource, In } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { asRow } from '#src/database/columns.js';
import { Group } from '#src/tenancy/entities/group.entity.js';
import { User } from '#src/users/user.entity.js';
import { Workspace } from '#src/tenancy/entities/workspace.entity.js';
import { ProjectMember } from '#src/tenancy/entities/project-member.entity.js';
import { Project } from '#src/tenancy/entities/project.entity.js';
import { forUpdate } from '#src/database/locks.js';

export interface MemberRow {
  memberId: string;
  memberType: 'user' | 'group';
  role: string;
  email: string | null;
  fullName: string | null;
  serverRole: string | null;
  groupName: string | null;
}

export interface GroupProjectRow {
  groupId: string;
  projectId: string;
  projectName: string;
  role: string;
}

@Injectable()
export class ProjectsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(tx?: Tx): Tx {
    return tx ?? this.dataSource.manager;
  }

  findById(id: string, tx?: Tx): Promise<Project | null> {
    return this.m(tx).getRepository(Project).findOne({ where: { id } });
  }

  async domainOf(workspaceId: string, tx?: Tx): Promise<string> {
    const w = await this.m(tx)
      .getRepository(Workspace)
      .findOne({ where: { id: workspaceId } });
    return w?.domain ?? '';
  }

  async domainsOf(workspaceIds: string[]): Promise<Map<string, string>> {
    if (workspaceIds.length === 0) return new Map();
    const rows = await this.dataSource
      .getRepository(Workspace)
      .find({ where: { id: In([...new Set(workspaceIds)]) } });
    return new Map(rows.map((w) => [w.id, w.domain]));
  }

  async insert(tx: Tx, p: Project): Promise<void> {
    await tx.getRepository(Project).insert(asRow(p));
  }

  async update(tx: Tx, p: Project, changes: Partial<Project>): Promise<void> {
    await tx
      .getRepository(Project)
      .update({ id: p.id }, asRow({ ...changes, updatedAt: new Date(), version: p.version + 1 }));
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.getRepository(ProjectMember).delete({ projectId: id });
    await tx.getRepository(Project).delete({ id });
  }

  /**
   * Projects a user may list: all (server admins), else those where they are a direct member, a
   * member through a group, or workspace admin. Keyset by id.
   */
  listVisible(opts: {
    userId: string;
    all: boolean;
    workspaceIds: string[] | null;
    after: string | null;
    limit: number;
  }): Promise<Project[]> {
    const qb = this.dataSource.getRepository(Project).createQueryBuilder('p');
    if (!opts.all) {
      qb.andWhere(
        new Brackets((w) => {
          w.where(
            'EXISTS (SELECT 1 FROM project_members pm WHERE pm.project_id = p.id AND pm.user_id = :u)',
          )
            .orWhere(
              `EXISTS (SELECT 1 FROM project_members pm JOIN group_members gm ON gm.group_id = pm.group_id
                        WHERE pm.project_id = p.id AND gm.user_id = :u)`,
            )
            .orWhere(
              `EXISTS (SELECT 1 FROM workspace_members wm
                        WHERE wm.workspace_id = p.workspace_id AND wm.user_id = :u AND wm.role = 'admin')`,
            );
        }),
        { u: opts.userId },
      );
      // Nothing of a workspace where the workspace's SCIM suspended the user.
      qb.andWhere(
        `NOT EXISTS (SELECT 1 FROM workspace_members sw
                      WHERE sw.workspace_id = p.workspace_id AND sw.user_id = :u AND sw.suspended = 1)`,
        { u: opts.userId },
      );
    }
    if (opts.workspaceIds !== null) {
      if (opts.workspaceIds.length === 0) qb.andWhere('1 = 0');
      else qb.andWhere('p.workspaceId IN (:...ws)', { ws: opts.workspaceIds });
    }
    if (opts.after !== null) qb.andWhere('p.id > :after', { after: opts.after });
    return qb.orderBy('p.id', 'ASC').limit(opts.limit).getMany();
  }

  // Members

  findMember(projectId: string, memberId: string, tx?: Tx): Promise<ProjectMember | null> {
    return this.m(tx).getRepository(ProjectMember).findOne({ where: { projectId, memberId } });
  }

  async lockMember(tx: Tx, projectId: string, memberId: string): Promise<ProjectMember | null> {
    const qb = tx
      .getRepository(ProjectMember)
      .createQueryBuilder('pm')
      .where('pm.projectId = :projectId AND pm.memberId = :memberId', { projectId, memberId });
    return forUpdate(tx, qb).getOne();
  }

  async insertMember(tx: Tx, m: ProjectMember): Promise<void> {
    await tx.getRepository(ProjectMember).insert(asRow(m));
  }

  async setMemberRole(tx: Tx, projectId: string, memberId: string, role: string): Promise<void> {
    await tx
      .getRepository(ProjectMember)
      .update({ projectId, memberId }, asRow({ role, updatedAt: new Date() } as ProjectMember));
  }

  async deleteMember(tx: Tx, projectId: string, memberId: string): Promise<void> {
    await tx.getRepository(ProjectMember).delete({ projectId, memberId });
  }

  /** Direct user admins, read with a lock (latest committed rows, whatever the snapshot). */
  async lockUserAdmins(tx: Tx, projectId: string): Promise<string[]> {
    const qb = tx
      .getRepository(ProjectMember)
      .createQueryBuilder('pm')
      .select('pm.memberId', 'memberId')
      .where("pm.projectId = :projectId AND pm.memberType = 'user' AND pm.role = 'admin'", {
        projectId,
      });
    const rows = await forUpdate(tx, qb).getRawMany<{
      memberId: string;
    }>();
    return rows.map((r) => r.memberId);
  }

  /** A project's members as MemberRow: the user or the group each row names, joined. */
  private memberRows(projectId: string, tx?: Tx) {
    return this.m(tx)
      .getRepository(ProjectMember)
      .createQueryBuilder('pm')
      .leftJoin(User, 'u', 'u.id = pm.userId')
      .leftJoin(Group, 'g', 'g.id = pm.groupId')
      .select([
        'pm.memberId AS memberId',
        'pm.memberType AS memberType',
        'pm.role AS role',
        'u.email AS email',
        'u.fullName AS fullName',
        'u.role AS serverRole',
        'g.name AS groupName',
      ])
      .where('pm.projectId = :projectId', { projectId });
  }

  listMembers(projectId: string, after: string | null, limit: number): Promise<MemberRow[]> {
    const qb = this.memberRows(projectId);
    if (after !== null) qb.andWhere('pm.memberId > :after', { after });
    return qb.orderBy('pm.memberId', 'ASC').limit(limit).getRawMany<MemberRow>();
  }

  async memberRow(projectId: string, memberId: string, tx?: Tx): Promise<MemberRow | null> {
    const rows = await this.memberRows(projectId, tx)
      .andWhere('pm.memberId = :memberId', { memberId })
      .getRawMany<MemberRow>();
    return rows[0] ?? null;
  }

  groupProjects(groupIds: string[], tx?: Tx): Promise<GroupProjectRow[]> {
    if (groupIds.length === 0) return Promise.resolve([]);
    return this.m(tx)
      .getRepository(ProjectMember)
      .createQueryBuilder('pm')
      .innerJoin(Project, 'p', 'p.id = pm.projectId')
      .select([
        'pm.groupId AS groupId',
        'pm.projectId AS projectId',
        'p.name AS projectName',
        'pm.role AS role',
      ])
      .where('pm.groupId IN (:...groupIds)', { groupIds })
      .orderBy('pm.projectId', 'ASC')
      .getRawMany<GroupProjectRow>();
  }

  projectsInWorkspaces(workspaceIds: string[]): Promise<Project[]> {
    if (workspaceIds.length === 0) return Promise.resolve([]);
    return this.dataSource
      .getRepository(Project)
      .find({ where: { workspaceId: In(workspaceIds) }, order: { id: 'ASC' } });
  }

  async removeUserFromWorkspaceProjects(
    tx: Tx,
    workspaceId: string,
    userId: string,
  ): Promise<void> {
    await tx
      .getRepository(ProjectMember)
      .createQueryBuilder()
      .delete()
      .where('user_id = :userId', { userId })
      .andWhere('project_id IN (SELECT p.id FROM projects p WHERE p.workspace_id = :workspaceId)', {
        workspaceId,
      })
      .execute();
  }

  async deleteInWorkspace(tx: Tx, workspaceId: string): Promise<void> {
    await tx
      .getRepository(ProjectMember)
      .createQueryBuilder()
      .delete()
      .where('project_id IN (SELECT p.id FROM projects p WHERE p.workspace_id = :workspaceId)', {
        workspaceId,
      })
      .execute();
    await tx.getRepository(Project).delete({ workspaceId });
  }
}
