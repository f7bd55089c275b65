import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { Database, isUniqueViolation, type Tx } from '#src/database/database.service.js';
import type { JsonObject } from '#src/database/columns.js';
import { newId } from '#src/database/ids.js';
import { AuditService } from '#src/audit/audit.service.js';
import type { Principal } from '#src/kernel/principal.js';
import { WorkspacesService } from '#src/tenancy/workspaces/workspaces.service.js';
import { Group } from '#src/tenancy/entities/group.entity.js';
import { GroupProjectsService } from '#src/tenancy/groups/group-projects.service.js';
import {
  AccessService,
  isServerAdmin,
  type GroupAccess,
} from '#src/tenancy/access/access.service.js';
import { toGroupResponse, type GroupResponse } from '#src/tenancy/groups/group.mapper.js';
import { GroupsRepository } from '#src/tenancy/groups/groups.repository.js';

// Settings live in a TEXT column (64 KiB on MySQL); the audit entry of a change holds both versions
// only while small, else a marker (the audit column is TEXT too).
const SETTINGS_MAX_BYTES = 32 * 1024;
const SETTINGS_AUDIT_MAX_BYTES = 4 * 1024;

function checkSettings(settings: JsonObject | undefined): void {
  if (
    settings !== undefined &&
    Buffer.byteLength(JSON.stringify(settings), 'utf8') > SETTINGS_MAX_BYTES
  )
    throw AppException.invalid('settings', `must stay under ${SETTINGS_MAX_BYTES / 1024} KiB`);
}

function auditableSettings(from: unknown, to: unknown): unknown {
  const change = { from, to };
  return Buffer.byteLength(JSON.stringify(change), 'utf8') > SETTINGS_AUDIT_MAX_BYTES
    ? { changed: true }
    : change;
}

export interface NewGroup {
  /** A caller-chosen id (the seeds' `identifier`); else a generated UUID. */
  id?: string;
  name: string;
  workspace: string;
  members?: { id: string }[];
  projectId?: string;
  settings?: JsonObject;
}

function idConflict(): AppException {
  return AppException.conflict('A group with this id already exists.', 'id');
}

export interface GroupChanges {
  name?: string;
  members?: { id: string }[];
  projects?: string[];
  /** `null` clears the settings (to `{}`). */
  settings?: JsonObject | null;
}

@Injectable()
export class GroupsService {
  constructor(
    private readonly db: Database,
    private readonly repo: GroupsRepository,
    private readonly access: AccessService,
    private readonly workspaces: WorkspacesService,
    private readonly projects: GroupProjectsService,
    private readonly audit: AuditService,
  ) {}

  // Routes

  async create(p: Principal, input: NewGroup): Promise<GroupResponse> {
    checkSettings(input.settings);
    const ws = await this.access.workspace(p, { domain: input.workspace }, 'contributor');
    if (input.projectId !== undefined)
      await this.projects.requireScopeProject(p, input.projectId, ws.workspace.id);
    // The owner is one of the members (flowserv: the creator is always in the initial member
    // list), unless they are a server admin outside the workspace: members come from it only.
    const creator = ws.role !== null ? [p.userId] : [];
    const memberIds = [...new Set([...creator, ...(input.members ?? []).map((m) => m.id)])];
    const group = await this.db.transaction(async (tx) => {
      await this.assertWorkspaceMembers(tx, ws.workspace.id, memberIds);
      if (input.id !== undefined && (await this.repo.idTaken(tx, input.id))) throw idConflict();
      const g = new Group();
      g.id = input.id ?? newId();
      g.workspaceId = ws.workspace.id;
      g.projectId = input.projectId ?? null;
      g.scopeKey = g.projectId ?? g.workspaceId;
      g.name = input.name.trim();
      g.nameNormalized = g.name.toLowerCase();
      g.ownerId = p.userId;
      g.settings = input.settings ?? {};
      g.createdAt = new Date();
      g.updatedAt = g.createdAt;
      g.version = 1;
      await this.insertOrConflict(
        () => this.repo.insert(tx, g),
        input.id === undefined ? undefined : () => this.repo.idTaken(tx, g.id),
      );
      await this.repo.addMembers(tx, g.id, memberIds);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'group.create',
        targetType: 'group',
        targetId: g.id,
        changes: {
          ...(input.id !== undefined ? { chosenId: true } : {}),
          name: g.name,
          workspaceId: g.workspaceId,
          projectId: g.projectId,
          ownerId: g.ownerId,
          members: memberIds,
        },
      });
      return g;
    });
    return this.respond(group, ws.workspace.domain, false);
  }

  async list(
    p: Principal,
    q: { workspace?: string; projectId?: string; limit?: number; cursor?: string },
  ): Promise<Page<GroupResponse>> {
    const limit = q.limit ?? 50;
    const workspaceId =
      q.workspace !== undefined
        ? (await this.access.workspace(p, { domain: q.workspace })).workspace.id
        : null;
    const after = decodeCursor(q.cursor, 1)?.[0];
    const rows = await this.repo.listVisible({
      userId: p.userId,
      all: isServerAdmin(p),
      workspaceId,
      projectId: q.projectId ?? null,
      after: after === undefined ? null : String(after),
      limit: limit + 1,
    });
    const page = toPage(
      rows,
      limit,
      (r) => [r.group.id],
      (r) => r,
    );
    const members = await this.repo.membersOf(page.items.map((r) => r.group.id));
    return {
      items: page.items.map((r) => toGroupResponse(r.group, r.domain, members)),
      nextCursor: page.nextCursor,
    };
  }

  /** The group as the route's guard judged it for the caller (`@CheckedGroup()`). */
  async get(p: Principal, a: GroupAccess, includeProjects: boolean): Promise<GroupResponse> {
    return this.respond(a.group, a.workspace.workspace.domain, includeProjects, p);
  }

  async update(p: Principal, id: string, input: GroupChanges): Promise<GroupResponse> {
    const changes = { ...input, settings: input.settings === null ? {} : input.settings };
    if (
      changes.name === undefined &&
      changes.members === undefined &&
      changes.projects === undefined &&
      changes.settings === undefined
    ) {
      throw AppException.invalid('body', 'names no change');
    }
    checkSettings(changes.settings);
    const { group, domain } = await this.db.transaction(async (tx) => {
      const a = await this.requireManager(tx, p, id);
      const g = a.group;
      const audit: Record<string, unknown> = {};
      const row: Partial<Group> = {};
      if (changes.name !== undefined && changes.name.trim() !== g.name) {
        row.name = changes.name.trim();
        row.nameNormalized = row.name.toLowerCase();
        audit.name = { from: g.name, to: row.name };
      }
      if (changes.settings !== undefined) {
        row.settings = changes.settings;
        audit.settings = auditableSettings(g.settings, changes.settings);
      }
      if (Object.keys(row).length) await this.insertOrConflict(() => this.repo.update(tx, g, row));
      if (changes.projects !== undefined) {
        const r = await this.projects.setGroupProjects(tx, p, g, [...new Set(changes.projects)]);
        if (r.added.length || r.removed.length) audit.projects = r;
      }
      if (changes.members !== undefined) {
        const want = [...new Set(changes.members.map((m) => m.id))];
        const have = await this.repo.memberIds(tx, g.id);
        const added = want.filter((u) => !have.includes(u));
        const removed = have.filter((u) => !want.includes(u));
        if (added.length) {
          await this.assertWorkspaceMembers(tx, g.workspaceId, added);
          await this.projects.assertActorCoversGroup(tx, p, g);
        }
        await this.repo.removeMembers(tx, g.id, removed);
        await this.repo.addMembers(tx, g.id, added);
        if (added.length || removed.length) audit.members = { added, removed };
      }
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'group.update',
        targetType: 'group',
        targetId: g.id,
        changes: audit,
      });
      const fresh = await this.repo.findById(g.id, tx);
      if (!fresh) throw AppException.notFound('Group');
      return { group: fresh, domain: a.workspace.workspace.domain };
    });
    return this.respond(group, domain, false);
  }

  /** Deletes the group and every membership of and in it (project memberships too). */
  async remove(p: Principal, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const a = await this.access.group(p, id, 'deleter', { tx, lock: true });
      const members = await this.repo.memberIds(tx, id);
      const projects = await this.projects.projectsOf([id], tx);
      await this.repo.delete(tx, id);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'group.delete',
        targetType: 'group',
        targetId: id,
        changes: {
          before: {
            name: a.group.name,
            workspaceId: a.group.workspaceId,
            projectId: a.group.projectId,
            ownerId: a.group.ownerId,
            members,
            projects: projects.map((r) => ({ projectId: r.projectId, role: r.role })),
          },
        },
      });
    });
  }

  async addMember(p: Principal, id: string, userId: string): Promise<GroupResponse> {
    const { group, domain } = await this.db.transaction(async (tx) => {
      const a = await this.requireManager(tx, p, id);
      await this.assertWorkspaceMembers(tx, a.group.workspaceId, [userId]);
      await this.projects.assertActorCoversGroup(tx, p, a.group);
      if (await this.repo.isMember(id, userId, tx))
        throw AppException.conflict('The user is already a member of this group.', 'userId');
      await this.repo.addMembers(tx, id, [userId]);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'group.member_add',
        targetType: 'group',
        targetId: id,
        changes: { userId, member: { from: false, to: true } },
      });
      return { group: a.group, domain: a.workspace.workspace.domain };
    });
    return this.respond(group, domain, false);
  }

  async removeMember(p: Principal, id: string, userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await this.requireManager(tx, p, id);
      if (!(await this.repo.isMember(id, userId, tx))) throw AppException.notFound('Group member');
      await this.repo.removeMembers(tx, id, [userId]);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'group.member_remove',
        targetType: 'group',
        targetId: id,
        changes: { userId, member: { from: true, to: false } },
      });
    });
  }

  // Helpers

  /** Visible (404), managed by the caller (403), the group row locked for the transaction. */
  private requireManager(tx: Tx, p: Principal, id: string): Promise<GroupAccess> {
    return this.access.group(p, id, 'manager', { tx, lock: true });
  }

  /** Group members come from the group's workspace only (isolation). */
  private async assertWorkspaceMembers(
    tx: Tx,
    workspaceId: string,
    userIds: string[],
  ): Promise<void> {
    const outside = await this.workspaces.nonMembers(workspaceId, userIds, tx);
    if (outside.length) {
      throw AppException.rule(
        'not_workspace_member',
        'Group members must be members of the group’s workspace.',
        'members',
      );
    }
  }

  /** Runs the write; a unique violation is a 409 naming `id` (when `idClash` says so) or `name`. */
  private async insertOrConflict(
    write: () => Promise<void>,
    idClash?: () => Promise<boolean>,
  ): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (idClash && (await idClash())) throw idConflict();
      throw AppException.conflict('A group with this name already exists in its scope.', 'name');
    }
  }

  private async respond(
    group: Group,
    domain: string,
    includeProjects: boolean,
    p?: Principal,
  ): Promise<GroupResponse> {
    const members = await this.repo.membersOf([group.id]);
    if (!includeProjects || !p) return toGroupResponse(group, domain, members);
    const rows = await this.projects.projectsOf([group.id]);
    const visible = await this.access.visibleProjectIds(
      p,
      rows.map((r) => r.projectId),
    );
    return toGroupResponse(
      group,
      domain,
      members,
      rows
        .filter((r) => visible.has(r.projectId))
        .map((r) => ({ projectId: r.projectId, name: r.projectName, role: r.role })),
    );
  }
}
