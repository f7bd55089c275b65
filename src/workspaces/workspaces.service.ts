import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/config.js';
import { AppException } from '../common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '../common/http/pagination.js';
import { Database, isUniqueViolation, type Tx } from '../database/database.service.js';
import { newId } from '../database/ids.js';
import { AuditService } from '../audit/audit.service.js';
import { AuthService } from '../auth/auth.service.js';
import type { Principal } from '../auth/principal.js';
import { MailService } from '../mail/mail.service.js';
import type { User } from '../users/user.entity.js';
import { UsersService } from '../users/users.service.js';
import { isServerAdmin, readOnlyRole, writesAllowed } from './workspace-access.js';
import { Workspace, WorkspaceMember, type WorkspaceRole } from './workspace.entity.js';
import {
  toWorkspaceResponse,
  type ProjectSummary,
  type WorkspaceResponse,
} from './workspace.mapper.js';
import { WorkspacesRepository, type WorkspaceUserRow } from './workspaces.repository.js';
import { nextFreeSlug, slugify } from './slug.js';

/** What a caller may do in one workspace. */
export interface WorkspaceAccess {
  workspace: Workspace;
  role: WorkspaceRole | null;
  serverAdmin: boolean;
  /** Workspace admin or server admin (and allowed to write). */
  admin: boolean;
  /** May create projects and groups here: admin/user role (or server admin), server role not read-only. */
  contributor: boolean;
}

/** Other modules hook in here: they own rows that hang off a workspace membership. */
export interface WorkspaceHook {
  /** A user left the workspace: drop their group and project memberships in it (same transaction). */
  onMemberRemoved?(tx: Tx, workspaceId: string, userId: string): Promise<void>;
  /** The workspace is being deleted: delete what you own in it (FKs cascade too). */
  onDeleting?(tx: Tx, workspaceId: string): Promise<void>;
}

export type ProjectsOfWorkspaces = (
  principal: Principal,
  workspaceIds: string[],
) => Promise<Record<string, ProjectSummary[]>>;

export interface AddedWorkspaceUser {
  userId: string;
  workspace: string;
  role: WorkspaceRole;
  invited: boolean;
  added: boolean;
}

const DOMAIN_ATTEMPTS = 5;

@Injectable()
export class WorkspacesService implements OnModuleInit {
  private readonly hooks: WorkspaceHook[] = [];
  private projectsOf: ProjectsOfWorkspaces | null = null;

  constructor(
    private readonly db: Database,
    private readonly repo: WorkspacesRepository,
    private readonly audit: AuditService,
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly mail: MailService,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.users.setVisibleUsersProvider((viewerId) =>
      this.repo.membersOfAdministeredWorkspaces(viewerId),
    );
    // SIGNUP=workspace: a self-service signup gets a workspace of its own, in the signup transaction.
    this.users.addLifecycleHook({
      onSignedUp: async (tx, user) => {
        const title = user.fullName?.trim() || user.email.split('@')[0] || 'Workspace';
        await this.insertWorkspace(tx, title, user.id);
      },
    });
  }

  addHook(hook: WorkspaceHook): void {
    this.hooks.push(hook);
  }

  /** The projects module lists a caller's projects per workspace (GET /workspaces?includeProjects). */
  setProjectsProvider(provider: ProjectsOfWorkspaces): void {
    this.projectsOf = provider;
  }

  // Access, used by every module

  /** The caller's access to a workspace by domain; 404 when they may not see it. */
  async requireAccess(p: Principal, domain: string, tx?: Tx): Promise<WorkspaceAccess> {
    const ws = await this.repo.findByDomain(domain, tx);
    return this.accessTo(p, ws, tx);
  }

  async requireAccessById(p: Principal, workspaceId: string, tx?: Tx): Promise<WorkspaceAccess> {
    return this.accessTo(p, await this.repo.findById(workspaceId, tx), tx);
  }

  private async accessTo(p: Principal, ws: Workspace | null, tx?: Tx): Promise<WorkspaceAccess> {
    if (!ws) throw AppException.notFound('Workspace');
    const serverAdmin = isServerAdmin(p);
    const role = await this.repo.roleOf(ws.id, p.userId, tx);
    if (!serverAdmin && role === null) throw AppException.notFound('Workspace');
    const writes = writesAllowed(p);
    return {
      workspace: ws,
      role,
      serverAdmin,
      admin: writes && (serverAdmin || role === 'admin'),
      contributor: writes && (serverAdmin || role === 'admin' || role === 'user'),
    };
  }

  roleOf(workspaceId: string, userId: string, tx?: Tx): Promise<WorkspaceRole | null> {
    return this.repo.roleOf(workspaceId, userId, tx);
  }

  findById(id: string, tx?: Tx): Promise<Workspace | null> {
    return this.repo.findById(id, tx);
  }

  /** The ids among `userIds` that are not members of the workspace. */
  async nonMembers(workspaceId: string, userIds: string[], tx?: Tx): Promise<string[]> {
    const found = await this.repo.membersAmong(workspaceId, userIds, tx);
    return userIds.filter((id) => !found.some((m) => m.userId === id));
  }

  lock(tx: Tx, workspaceId: string): Promise<Workspace | null> {
    return this.repo.lock(tx, workspaceId);
  }

  // Routes

  async create(p: Principal, title: string): Promise<WorkspaceResponse> {
    // The route already required workspaces.create (scopes included); the role cap is checked here.
    if (readOnlyRole(p)) throw AppException.forbidden('Read-only users cannot create workspaces.');
    // The domain is picked under the audit chain lock; the unique index plus a retry cover the rest.
    for (let attempt = 1; ; attempt += 1) {
      try {
        const ws = await this.db.transaction(async (tx) => {
          await this.audit.lockChain(tx);
          return this.insertWorkspace(tx, title, p.userId);
        });
        return toWorkspaceResponse(ws, 'admin');
      } catch (err) {
        if (!isUniqueViolation(err) || attempt >= DOMAIN_ATTEMPTS) throw err;
      }
    }
  }

  private async insertWorkspace(tx: Tx, title: string, creatorId: string): Promise<Workspace> {
    const base = slugify(title);
    const ws = new Workspace();
    ws.id = newId();
    ws.domain = nextFreeSlug(base, await this.repo.domainsLike(tx, base));
    ws.title = title.trim();
    ws.createdBy = creatorId;
    ws.createdAt = new Date();
    ws.updatedAt = ws.createdAt;
    ws.version = 1;
    await this.repo.insert(tx, ws);
    await this.repo.insertMember(tx, member(ws.id, creatorId, 'admin'));
    await this.audit.record(tx, {
      actorId: creatorId,
      action: 'workspace.create',
      targetType: 'workspace',
      targetId: ws.id,
      changes: { domain: ws.domain, title: ws.title, admin: creatorId },
    });
    return ws;
  }

  async list(
    p: Principal,
    q: { includeProjects?: boolean; adminOnly?: boolean; limit?: number; cursor?: string },
  ): Promise<Page<WorkspaceResponse>> {
    const limit = q.limit ?? 50;
    const after = decodeCursor(q.cursor, 1)?.[0];
    const serverAdmin = isServerAdmin(p);
    const rows = await this.repo.list({
      userId: p.userId,
      all: serverAdmin,
      adminOnly: q.adminOnly ?? false,
      after: after === undefined ? null : String(after),
      limit: limit + 1,
    });
    const page = toPage(
      rows,
      limit,
      (r) => [r.workspace.domain],
      (r) => r,
    );
    const projects =
      q.includeProjects && this.projectsOf
        ? await this.projectsOf(
            p,
            page.items.map((r) => r.workspace.id),
          )
        : null;
    return {
      items: page.items.map((r) =>
        toWorkspaceResponse(
          r.workspace,
          r.role,
          projects ? (projects[r.workspace.id] ?? []) : undefined,
        ),
      ),
      nextCursor: page.nextCursor,
    };
  }

  async get(p: Principal, domain: string): Promise<WorkspaceResponse> {
    const a = await this.requireAccess(p, domain);
    return toWorkspaceResponse(a.workspace, a.role);
  }

  async update(p: Principal, domain: string, title: string): Promise<WorkspaceResponse> {
    const ws = await this.db.transaction(async (tx) => {
      const a = await this.requireAdmin(tx, p, domain);
      const before = a.workspace.title;
      await this.repo.update(tx, a.workspace, { title: title.trim() });
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'workspace.update',
        targetType: 'workspace',
        targetId: a.workspace.id,
        changes: { title: { from: before, to: title.trim() } },
      });
      return { ws: await this.repo.findById(a.workspace.id, tx), role: a.role };
    });
    if (!ws.ws) throw AppException.notFound('Workspace');
    return toWorkspaceResponse(ws.ws, ws.role);
  }

  /** Deletes the workspace with its projects, groups and every membership, in one transaction. */
  async remove(p: Principal, domain: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const a = await this.requireAdmin(tx, p, domain);
      const members = await this.repo.countMembers(a.workspace.id, tx);
      for (const h of this.hooks) await h.onDeleting?.(tx, a.workspace.id);
      await this.repo.delete(tx, a.workspace.id);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'workspace.delete',
        targetType: 'workspace',
        targetId: a.workspace.id,
        changes: { before: { domain: a.workspace.domain, title: a.workspace.title, members } },
      });
    });
  }

  async listUsers(
    p: Principal,
    domain: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<WorkspaceUserRow>> {
    const a = await this.requireAccess(p, domain);
    const after = decodeCursor(cursor, 1)?.[0];
    const rows = await this.repo.listUsers(
      a.workspace.id,
      after === undefined ? null : String(after),
      limit + 1,
    );
    return toPage(
      rows,
      limit,
      (r) => [r.id],
      (r) => r,
    );
  }

  /** Adds users by email; unknown emails become invited (pending) users who get a mailed link. */
  async addUsers(
    p: Principal,
    domain: string,
    emails: string[],
    role: WorkspaceRole,
  ): Promise<AddedWorkspaceUser[]> {
    const unique = [...new Map(emails.map((e) => [e.trim().toLowerCase(), e.trim()])).values()];
    const invitations: { email: string; token: string; title: string }[] = [];
    const result = await this.db.transaction(async (tx) => {
      const a = await this.requireAdmin(tx, p, domain);
      const out: AddedWorkspaceUser[] = [];
      for (const email of unique) {
        let user = await this.users.findByEmail(email, tx);
        let invited = false;
        if (!user) {
          user = await this.users.createUser(
            tx,
            { email, password: null, status: 'pending', emailVerified: false, role: 'user' },
            p.userId,
          );
          invited = true;
        }
        const existing = await this.repo.lockMember(tx, a.workspace.id, user.id);
        if (!existing) {
          await this.repo.insertMember(tx, member(a.workspace.id, user.id, role));
          await this.audit.record(tx, {
            actorId: p.userId,
            action: 'workspace.member_add',
            targetType: 'workspace',
            targetId: a.workspace.id,
            changes: { userId: user.id, role: { from: null, to: role }, invited },
          });
        }
        if (user.status === 'pending') {
          const token = await this.auth.issueToken(
            tx,
            user.id,
            'invitation',
            this.config.activationHours * 60,
          );
          invitations.push({ email: user.email, token, title: a.workspace.title });
        }
        out.push({
          userId: user.id,
          workspace: a.workspace.domain,
          role: existing?.role ?? role,
          invited,
          added: !existing,
        });
      }
      return out;
    });
    for (const inv of invitations) this.sendInvitation(p, inv);
    return result;
  }

  private sendInvitation(p: Principal, inv: { email: string; token: string; title: string }): void {
    const link = this.mail.link(`/activate?token=${encodeURIComponent(inv.token)}`);
    this.mail.sendInBackground({
      to: inv.email,
      subject: `You are invited to the Gatehouse workspace ${inv.title}`,
      text: `${p.email} invited you to the workspace "${inv.title}".\n\nSet your password and sign in: ${link}\n\nOr sign in through your organisation's identity provider with this email address.\nThe link works once and expires in ${this.config.activationHours} hours.`,
    });
  }

  /** Adds the user (by id) with a role, or changes their role. Demoting the last admin: 422. */
  async setUserRole(
    p: Principal,
    domain: string,
    userId: string,
    role: WorkspaceRole,
  ): Promise<AddedWorkspaceUser> {
    return this.db.transaction(async (tx) => {
      const a = await this.requireAdmin(tx, p, domain);
      const target: User = await this.users.requireUser(userId, tx);
      const existing = await this.repo.lockMember(tx, a.workspace.id, target.id);
      if (existing?.role === 'admin' && role !== 'admin') {
        await this.assertNotLastAdmin(tx, a.workspace.id);
      }
      if (existing) await this.repo.setRole(tx, a.workspace.id, target.id, role);
      else await this.repo.insertMember(tx, member(a.workspace.id, target.id, role));
      await this.audit.record(tx, {
        actorId: p.userId,
        action: existing ? 'workspace.member_role' : 'workspace.member_add',
        targetType: 'workspace',
        targetId: a.workspace.id,
        changes: { userId: target.id, role: { from: existing?.role ?? null, to: role } },
      });
      return {
        userId: target.id,
        workspace: a.workspace.domain,
        role,
        invited: false,
        added: !existing,
      };
    });
  }

  /** Removes the user and their group and project memberships in this workspace. */
  async removeUser(p: Principal, domain: string, userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const a = await this.requireAdmin(tx, p, domain);
      const existing = await this.repo.lockMember(tx, a.workspace.id, userId);
      if (!existing) throw AppException.notFound('Workspace member');
      if (existing.role === 'admin') await this.assertNotLastAdmin(tx, a.workspace.id);
      for (const h of this.hooks) await h.onMemberRemoved?.(tx, a.workspace.id, userId);
      await this.repo.deleteMember(tx, a.workspace.id, userId);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'workspace.member_remove',
        targetType: 'workspace',
        targetId: a.workspace.id,
        changes: { userId, role: { from: existing.role, to: null } },
      });
    });
  }

  /** Visible (else 404), admin (else 403), and the workspace row locked for the transaction. */
  private async requireAdmin(tx: Tx, p: Principal, domain: string): Promise<WorkspaceAccess> {
    // Lock first: on MySQL the reads below then see the latest committed memberships (an admin
    // demoted by a concurrent request is refused here, not judged on a stale snapshot).
    const locked = await this.repo.lockByDomain(tx, domain);
    const a = await this.accessTo(p, locked, tx);
    if (!a.admin) throw AppException.forbidden('Only workspace admins can do this.');
    return a;
  }

  private async assertNotLastAdmin(tx: Tx, workspaceId: string): Promise<void> {
    const admins = await this.repo.lockAdmins(tx, workspaceId);
    if (admins.length <= 1) {
      throw AppException.rule(
        'last_workspace_admin',
        'A workspace keeps at least one admin: make someone else admin first.',
        'role',
      );
    }
  }
}

function member(workspaceId: string, userId: string, role: WorkspaceRole): WorkspaceMember {
  const m = new WorkspaceMember();
  m.workspaceId = workspaceId;
  m.userId = userId;
  m.role = role;
  m.createdAt = new Date();
  return m;
}
