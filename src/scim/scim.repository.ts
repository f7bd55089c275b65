import { Injectable } from '@nestjs/common';
import { DataSource, In, type SelectQueryBuilder } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import type { Tx } from '#src/database/database.service.js';
import { Group } from '#src/tenancy/entities/group.entity.js';
import { WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import { User } from '#src/users/user.entity.js';
import { ScimGroup } from '#src/scim/scim-group.entity.js';
import { ScimUser } from '#src/scim/scim-user.entity.js';
import {
  ENTERPRISE_PREFIX,
  filterToSql,
  type AttributeMap,
  type Dialect,
  type SqlAttribute,
} from '#src/scim/scim-filter.js';

const s = (sql: string, caseExact = false, lowered = false): SqlAttribute => ({
  sql,
  type: 'string',
  caseExact,
  lowered,
});
const date = (sql: string): SqlAttribute => ({ sql, type: 'dateTime', caseExact: true });

/** SCIM User attributes over members (wm), their accounts (u) and this workspace's SCIM row (su). */
const USER_COLUMNS: Record<string, SqlAttribute> = {
  id: s('u.id', true),
  username: s('u.emailNormalized', false, true),
  emails: s('u.emailNormalized', false, true),
  'emails.value': s('u.emailNormalized', false, true),
  'emails.type': s("'work'"),
  'emails.primary': { sql: '1', type: 'boolean', caseExact: true },
  externalid: s('su.externalId', true),
  displayname: s('COALESCE(su.displayName, u.fullName)'),
  'name.givenname': s('su.givenName'),
  'name.familyname': s('su.familyName'),
  'name.formatted': s('su.formattedName'),
  title: s('su.title'),
  active: { sql: '(1 - wm.suspended)', type: 'boolean', caseExact: true },
  'meta.created': date('wm.createdAt'),
  'meta.lastmodified': date('COALESCE(su.updatedAt, wm.createdAt)'),
  [`${ENTERPRISE_PREFIX}employeenumber`]: s('su.employeeNumber'),
  [`${ENTERPRISE_PREFIX}department`]: s('su.department'),
  [`${ENTERPRISE_PREFIX}organization`]: s('su.organization'),
  [`${ENTERPRISE_PREFIX}manager`]: s('su.managerId', true),
  [`${ENTERPRISE_PREFIX}manager.value`]: s('su.managerId', true),
};

const memberExists = (cond: string): string =>
  `EXISTS (SELECT 1 FROM group_members gmf WHERE gmf.group_id = g.id AND ${cond})`;

/** SCIM Group attributes over the workspace's groups (g), SCIM rows (sg) and memberships. */
const GROUP_COLUMNS: Record<string, SqlAttribute> = {
  id: s('g.id', true),
  displayname: s('g.nameNormalized', false, true),
  externalid: s('sg.externalId', true),
  members: { ...s('gmf.user_id', true), wrap: memberExists },
  'members.value': { ...s('gmf.user_id', true), wrap: memberExists },
  'members.type': { ...s("'User'"), wrap: memberExists },
  'meta.created': date('g.createdAt'),
  'meta.lastmodified': date('g.updatedAt'),
};

export const userAttribute: AttributeMap = (p) => USER_COLUMNS[p];
export const groupAttribute: AttributeMap = (p) => GROUP_COLUMNS[p];

export interface ScimQuery {
  filter?: string;
  sortBy?: SqlAttribute;
  descending: boolean;
  offset: number;
  count: number;
}

/**
 * The SCIM module's own rows, and the one search query per resource type. The searches read the
 * members, accounts and groups of ONE workspace (read-only, by entity) so that filters, sorting
 * and paging run in SQL; every write to those goes through UsersService and
 * WorkspaceProvisioningService.
 */
@Injectable()
export class ScimRepository {
  constructor(private readonly dataSource: DataSource) {}

  get dialect(): Dialect {
    return this.dataSource.options.type === 'better-sqlite3' ? 'sqlite' : 'mysql';
  }

  private m(tx?: Tx): Tx {
    return tx ?? this.dataSource.manager;
  }

  // Users

  private usersQuery(
    workspaceId: string,
    filter: string | undefined,
  ): SelectQueryBuilder<WorkspaceMember> {
    const qb = this.dataSource
      .getRepository(WorkspaceMember)
      .createQueryBuilder('wm')
      .innerJoin(User, 'u', 'u.id = wm.userId')
      .leftJoin(ScimUser, 'su', 'su.workspaceId = wm.workspaceId AND su.userId = wm.userId')
      .where('wm.workspaceId = :scimWs', { scimWs: workspaceId });
    const cond = filterToSql(filter, userAttribute, this.dialect);
    if (cond) qb.andWhere(`(${cond.sql})`, cond.params);
    return qb;
  }

  /** A page of member ids matching the filter, in order, and how many match in all. */
  async searchUsers(workspaceId: string, q: ScimQuery): Promise<{ ids: string[]; total: number }> {
    const total = await this.usersQuery(workspaceId, q.filter).getCount();
    if (q.count === 0) return { ids: [], total };
    const qb = this.usersQuery(workspaceId, q.filter).select('u.id', 'id');
    this.order(qb, q, 'u.id');
    const rows = await qb.offset(q.offset).limit(q.count).getRawMany<{ id: string }>();
    return { ids: rows.map((r) => r.id), total };
  }

  // Groups

  private groupsQuery(workspaceId: string, filter: string | undefined): SelectQueryBuilder<Group> {
    const qb = this.dataSource
      .getRepository(Group)
      .createQueryBuilder('g')
      .leftJoin(ScimGroup, 'sg', 'sg.groupId = g.id')
      .where('g.workspaceId = :scimWs AND g.projectId IS NULL', { scimWs: workspaceId });
    const cond = filterToSql(filter, groupAttribute, this.dialect);
    if (cond) qb.andWhere(`(${cond.sql})`, cond.params);
    return qb;
  }

  async searchGroups(workspaceId: string, q: ScimQuery): Promise<{ ids: string[]; total: number }> {
    const total = await this.groupsQuery(workspaceId, q.filter).getCount();
    if (q.count === 0) return { ids: [], total };
    const qb = this.groupsQuery(workspaceId, q.filter).select('g.id', 'id');
    this.order(qb, q, 'g.id');
    const rows = await qb.offset(q.offset).limit(q.count).getRawMany<{ id: string }>();
    return { ids: rows.map((r) => r.id), total };
  }

  private order<T extends object>(qb: SelectQueryBuilder<T>, q: ScimQuery, id: string): void {
    const dir = q.descending ? 'DESC' : 'ASC';
    if (q.sortBy && !q.sortBy.wrap) {
      const a = q.sortBy;
      const expr = a.type === 'string' && !a.caseExact && !a.lowered ? `LOWER(${a.sql})` : a.sql;
      // NULLs last in both directions and both dialects, then the id as the tie-breaker.
      qb.addSelect(`CASE WHEN ${a.sql} IS NULL THEN 1 ELSE 0 END`, 'scim_nulls')
        .addSelect(expr, 'scim_sort')
        .orderBy('scim_nulls', 'ASC')
        .addOrderBy('scim_sort', dir)
        .addOrderBy(id, dir);
    } else {
      qb.orderBy(id, dir);
    }
  }

  // SCIM rows

  findScimUsers(workspaceId: string, userIds: string[], tx?: Tx): Promise<ScimUser[]> {
    if (userIds.length === 0) return Promise.resolve([]);
    return this.m(tx)
      .getRepository(ScimUser)
      .find({ where: { workspaceId, userId: In(userIds) } });
  }

  /** Writes the whole row (insert or replace): the caller holds the membership row lock. */
  async saveScimUser(tx: Tx, row: ScimUser): Promise<void> {
    const repo = tx.getRepository(ScimUser);
    const exists = await repo.exists({
      where: { workspaceId: row.workspaceId, userId: row.userId },
    });
    if (exists) {
      const { workspaceId, userId, createdAt: _c, member: _m, ...rest } = row;
      await repo.update({ workspaceId, userId }, asRow(rest));
    } else {
      await repo.insert(asRow(row));
    }
  }

  findScimGroups(groupIds: string[], tx?: Tx): Promise<ScimGroup[]> {
    if (groupIds.length === 0) return Promise.resolve([]);
    return this.m(tx)
      .getRepository(ScimGroup)
      .find({ where: { groupId: In(groupIds) } });
  }

  async saveScimGroup(tx: Tx, row: ScimGroup): Promise<void> {
    const repo = tx.getRepository(ScimGroup);
    if (await repo.exists({ where: { groupId: row.groupId } })) {
      await repo.update(
        { groupId: row.groupId },
        { externalId: row.externalId, updatedAt: row.updatedAt },
      );
    } else {
      await repo.insert(asRow(row));
    }
  }

  /** Members of the groups (user id and what to show), for the Group resources. */
  async groupMembers(
    groupIds: string[],
    tx?: Tx,
  ): Promise<{ groupId: string; userId: string; display: string }[]> {
    if (groupIds.length === 0) return [];
    return (
      this.m(tx)
        .createQueryBuilder()
        .from('group_members', 'gm')
        .innerJoin(User, 'u', 'u.id = gm.user_id')
        // A service account has no email: its id is its display.
        .select([
          'gm.group_id AS groupId',
          'gm.user_id AS userId',
          'COALESCE(u.email, u.id) AS display',
        ])
        .where('gm.group_id IN (:...groupIds)', { groupIds })
        .orderBy('gm.user_id', 'ASC')
        .getRawMany()
    );
  }
}
