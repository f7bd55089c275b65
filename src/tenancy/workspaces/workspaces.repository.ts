import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { asRow } from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';
import {
  Workspace,
  WorkspaceMember,
  type WorkspaceRole,
} from '#src/tenancy/entities/workspace.entity.js';
import { forUpdate } from '#src/database/locks.js';

export interface WorkspaceRow {
  workspace: Workspace;
  /** The caller's role in it, or null (server admins see workspaces they are not a member of). */
  role: WorkspaceRole | null;
}

export interface WorkspaceUserRow {
  id: string;
  email: string;
  fullName: string | null;
  status: string;
  serverRole: string;
  role: WorkspaceRole;
}

@Injectable()
export class WorkspacesRepository {
  constructor(private readonly dataSource: DataSource) {}

  private m(tx?: Tx): Tx {
    return tx ?? this.dataSource.manager;
  }

  findById(id: string, tx?: Tx): Promise<Workspace | null> {
    return this.m(tx).getRepository(Workspace).findOne({ where: { id } });
  }

  /** Domains equal to `base` or `base-<n>`, to pick the next free suffix. */
  async domainsLike(tx: Tx, base: string): Promise<string[]> {
    const rows = await tx
      .getRepository(Workspace)
      .createQueryBuilder('w')
      .select('w.domain', 'domain')
      .where('w.domain = :base OR w.domain LIKE :prefix', {
        base,
        prefix: `${base.replace(/[\\%_]/g, (c) => `\\${c}`)}-%`,
      })
      .getRawMany<{ domain: string }>();
    return rows.map((r) => r.domain);
  }

  /** Is the user an active (not suspended) member of a workspace with mfaRequired? */
  async inMfaRequiredWorkspace(userId: string, tx?: Tx): Promise<boolean> {
    const n = await this.m(tx)
      .getRepository(WorkspaceMember)
      .createQueryBuilder('m')
      .innerJoin(Workspace, 'w', 'w.id = m.workspace_id')
      .where('m.user_id = :userId AND m.suspended = :no AND w.mfa_required = :yes', {
        userId,
        no: false,
        yes: true,
      })
      .getCount();
    return n > 0;
  }

  async insert(tx: Tx, w: Workspace): Promise<void> {
    await tx.getRepository(Workspace).insert(asRow(w));
  }

  async update(tx: Tx, w: Workspace, changes: Partial<Workspace>): Promise<void> {
    await tx
      .getRepository(Workspace)
      .update({ id: w.id }, asRow({ ...changes, updatedAt: new Date(), version: w.version + 1 }));
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.getRepository(WorkspaceMember).delete({ workspaceId: id });
    await tx.getRepository(Workspace).delete({ id });
  }

  /** Workspaces the user is a member of (or every one, for `all`), keyset by domain. */
  async list(opts: {
    userId: string;
    all: boolean;
    adminOnly: boolean;
    after: string | null;
    limit: number;
  }): Promise<WorkspaceRow[]> {
    const qb = this.dataSource
      .getRepository(Workspace)
      .createQueryBuilder('w')
      // A membership suspended by the workspace's SCIM gives no access to it.
      .leftJoin(
        WorkspaceMember,
        'm',
        'm.workspaceId = w.id AND m.userId = :userId AND m.suspended = 0',
        {
          userId: opts.userId,
        },
      )
      .addSelect('m.role', 'member_role');
    if (!opts.all) qb.andWhere('m.userId IS NOT NULL');
    if (opts.adminOnly && !opts.all) qb.andWhere("m.role = 'admin'");
    if (opts.after !== null) qb.andWhere('w.domain > :after', { after: opts.after });
    const { entities, raw } = await qb
      .orderBy('w.domain', 'ASC')
      .limit(opts.limit)
      .getRawAndEntities<{ member_role: WorkspaceRole | null }>();
    return entities.map((workspace, i) => ({ workspace, role: raw[i]?.member_role ?? null }));
  }

  /** Locking read (latest committed row on MySQL, whatever snapshot the transaction holds). */
  async lockMember(tx: Tx, workspaceId: string, userId: string): Promise<WorkspaceMember | null> {
    const qb = tx
      .getRepository(WorkspaceMember)
      .createQueryBuilder('m')
      .where('m.workspaceId = :workspaceId AND m.userId = :userId', { workspaceId, userId });
    return forUpdate(tx, qb).getOne();
  }

  async lockAdmins(tx: Tx, workspaceId: string): Promise<string[]> {
    const qb = tx
      .getRepository(WorkspaceMember)
      .createQueryBuilder('m')
      .select('m.userId', 'userId')
      .where("m.workspaceId = :workspaceId AND m.role = 'admin'", { workspaceId });
    const rows = await forUpdate(tx, qb).getRawMany<{
      userId: string;
    }>();
    return rows.map((r) => r.userId);
  }

  membersAmong(workspaceId: string, userIds: string[], tx?: Tx): Promise<WorkspaceMember[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.m(tx)
      .getRepository(WorkspaceMember)
      .find({ where: { workspaceId, userId: In(userIds) } });
  }

  async insertMember(tx: Tx, m: WorkspaceMember): Promise<void> {
    await tx.getRepository(WorkspaceMember).insert(asRow(m));
  }

  async setRole(tx: Tx, workspaceId: string, userId: string, role: WorkspaceRole): Promise<void> {
    await tx.getRepository(WorkspaceMember).update({ workspaceId, userId }, { role });
  }

  async deleteMember(tx: Tx, workspaceId: string, userId: string): Promise<void> {
    await tx.getRepository(WorkspaceMember).delete({ workspaceId, userId });
  }

  /** Members with their user record, keyset by user id. */
  async listUsers(workspaceId: string, after: string | null, limit: number) {
    const qb = this.dataSource
      .getRepository(WorkspaceMember)
      .createQueryBuilder('m')
      .innerJoin(User, 'u', 'u.id = m.userId')
      .select([
        'u.id AS id',
        'u.email AS email',
        'u.fullName AS fullName',
        'u.status AS status',
        'u.role AS serverRole',
        'm.role AS role',
      ])
      .where('m.workspaceId = :workspaceId', { workspaceId });
    if (after !== null) qb.andWhere('m.userId > :after', { after });
    return qb.orderBy('m.userId', 'ASC').limit(limit).getRawMany<WorkspaceUserRow>();
  }

  countMembers(workspaceId: string, tx?: Tx): Promise<number> {
    return this.m(tx).getRepository(WorkspaceMember).count({ where: { workspaceId } });
  }

  /** Whether the user belongs to any workspace other than this one (suspended or not). */
  memberElsewhere(tx: Tx, userId: string, workspaceId: string): Promise<boolean> {
    return tx
      .getRepository(WorkspaceMember)
      .createQueryBuilder('m')
      .where('m.userId = :userId AND m.workspaceId <> :workspaceId', { userId, workspaceId })
      .getExists();
  }

  async setSuspended(
    tx: Tx,
    workspaceId: string,
    userId: string,
    suspended: boolean,
  ): Promise<void> {
    await tx.getRepository(WorkspaceMember).update({ workspaceId, userId }, { suspended });
  }
}
