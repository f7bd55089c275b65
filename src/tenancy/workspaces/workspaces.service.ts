import { Injectable } from '@nestjs/common';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { Database, isUniqueViolation, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { AuditService } from '#src/audit/audit.service.js';
import { AuthService } from '#src/auth/auth.service.js';
import { permits } from '#src/kernel/permissions.js';
import type { Principal } from '#src/kernel/principal.js';
import { MailService } from '#src/mail/mail.service.js';
import type { User } from '#src/users/user.entity.js';
import { UsersService } from '#src/users/users.service.js';
import {
  AccessService,
  isServerAdmin,
  readOnlyRole,
  type WorkspaceAccess,
} from '#src/tenancy/access/access.service.js';
import { GroupsRepository } from '#src/tenancy/groups/groups.repository.js';
import { InvitationsService } from '#src/tenancy/invitations/invitations.service.js';
import { ProjectsRepository } from '#src/tenancy/projects/projects.repository.js';
import { OnUserEvent, type UserEvents } from '#src/kernel/events.js';
import { MfaRequirements } from '#src/kernel/mfa-requirements.js';
import {
  Workspace,
  WorkspaceMember,
  type WorkspaceRole,
} from '#src/tenancy/entities/workspace.entity.js';
import {
  toWorkspaceResponse,
  type ProjectSummary,
  type WorkspaceResponse,
} from '#src/tenancy/workspaces/workspace.mapper.js';
import {
  WorkspacesRepository,
  type WorkspaceUserRow,
} from '#src/tenancy/workspaces/workspaces.repository.js';
import { nextFreeSlug, slugify } from '#src/tenancy/workspaces/slug.js';

/**
 * What adding one person did: `added` (a member now), `invited` (an existing person who was sent
 * an invitation and joins only by accepting it), `member` (already a member; POST left the role).
 */
export type AddStatus = 'added' | 'invited' | 'member';
export const ADD_STATUSES: readonly AddStatus[] = ['added', 'invited', 'member'];

export interface AddedWorkspaceUser {
  userId: string;
  workspace: string;
  role: WorkspaceRole;
  status: AddStatus;
  invited: boolean;
  added: boolean;
  invitationId?: string;
}

const DOMAIN_ATTEMPTS = 5;

@Injectable()
export class WorkspacesService {
  constructor(
    private readonly db: Database,
    private readonly repo: WorkspacesRepository,
    private readonly access: AccessService,
    private readonly groups: GroupsRepository,
    private readonly projects: ProjectsRepository,
    private readonly audit: AuditService,
    private readonly users: UsersService,
    private readonly auth: AuthService,
    private readonly mail: MailService,
    private readonly config: AppConfig,
    private readonly invitations: InvitationsService,
    mfaRequirements: MfaRequirements,
  ) {
    // A workspace with mfaRequired asks its members for a second factor at sign-in.
    mfaRequirements.add((userId, tx) => this.repo.inMfaRequiredWorkspace(userId, tx));
  }

  // SIGNUP=workspace: a self-service signup gets a workspace of its own, in the signup transaction.
  @OnUserEvent('user.signed-up')
  async onSignedUp(tx: Tx, e: UserEvents['user.signed-up']): Promise<void> {
    const title = e.user.fullName?.trim() || e.user.email?.split('@')[0] || 'Workspace';
    await this.insertWorkspace(tx, title, e.user.id);
  }

  /** The ids among `userIds` that are not members of the workspace. */
  async nonMembers(workspaceId: string, userIds: string[], tx?: Tx): Promise<string[]> {
    const found = await this.repo.membersAmong(workspaceId, userIds, tx);
    return userIds.filter((id) => !found.some((m) => m.userId === id));
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
    ws.mfaRequired = false;
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
    const projects = q.includeProjects
      ? await this.visibleProjects(
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

  /** The projects the caller may see in each of these workspaces. */
  private async visibleProjects(
    p: Principal,
    workspaceIds: string[],
  ): Promise<Record<string, ProjectSummary[]>> {
    const projects = await this.projects.projectsInWorkspaces(workspaceIds);
    const visible = await this.access.visibleProjectIds(
      p,
      projects.map((x) => x.id),
    );
    const out: Record<string, ProjectSummary[]> = {};
    for (const x of projects) {
      if (visible.has(x.id)) (out[x.workspaceId] ??= []).push({ id: x.id, name: x.name });
    }
    return out;
  }

  /** The workspace as the route's guard judged it for the caller (`@CheckedWorkspace()`). */
  get(a: WorkspaceAccess): WorkspaceResponse {
    return toWorkspaceResponse(a.workspace, a.role);
  }

  async update(
    p: Principal,
    domain: string,
    body: { title?: string; mfaRequired?: boolean },
  ): Promise<WorkspaceResponse> {
    const title = body.title?.trim();
    if (title === undefined && body.mfaRequired === undefined)
      throw AppException.invalid('title', 'give title or mfaRequired');
    const ws = await this.db.transaction(async (tx) => {
      const a = await this.requireAdmin(tx, p, domain);
      const set: Partial<Workspace> = {};
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      if (title !== undefined) {
        set.title = title;
        changes['title'] = { from: a.workspace.title, to: title };
      }
      if (body.mfaRequired !== undefined) {
        set.mfaRequired = body.mfaRequired;
        changes['mfaRequired'] = { from: a.workspace.mfaRequired, to: body.mfaRequired };
      }
      await this.repo.update(tx, a.workspace, set);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'workspace.update',
        targetType: 'workspace',
        targetId: a.workspace.id,
        changes,
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
      await this.groups.deleteWhere(tx, { workspaceId: a.workspace.id });
      await this.projects.deleteInWorkspace(tx, a.workspace.id);
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

  /** A page of the members of the workspace the route's guard let the caller see. */
  async listUsers(
    a: WorkspaceAccess,
    limit: number,
    cursor?: string,
  ): Promise<Page<WorkspaceUserRow>> {
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

  /**
   * Adds people by email. Unknown emails become invited pending users (a member at once, with a
   * mailed link to set their password). An existing person is added directly only by a server
   * admin (`users.manage`: they administer every account); a workspace admin who is not one sends
   * them an invitation instead, so nobody joins a workspace without consenting.
   */
  async addUsers(
    p: Principal,
    domain: string,
    emails: string[],
    role: WorkspaceRole,
  ): Promise<AddedWorkspaceUser[]> {
    const unique = [...new Map(emails.map((e) => [e.trim().toLowerCase(), e.trim()])).values()];
    const direct = permits(p.permissions, 'users.manage');
    const activations: { email: string; token: string; title: string }[] = [];
    const invitations: { email: string; token: string; title: string }[] = [];
    const result = await this.db.transaction(async (tx) => {
      // Emptied on each attempt: a deadlocked transaction runs again from the start.
      activations.length = 0;
      invitations.length = 0;
      const a = await this.requireAdmin(tx, p, domain);
      const out: AddedWorkspaceUser[] = [];
      for (const email of unique) {
        let user = await this.users.findByEmail(email, tx);
        let created = false;
        if (!user) {
          user = await this.users.createUser(
            tx,
            { email, password: null, status: 'pending', emailVerified: false, role: 'user' },
            p.userId,
          );
          created = true;
        }
        // Found or made by this email: the address to write to.
        const address = user.email ?? email;
        const item = { userId: user.id, workspace: a.workspace.domain };
        const existing = await this.repo.lockMember(tx, a.workspace.id, user.id);
        if (existing) {
          out.push({
            ...item,
            role: existing.role,
            status: 'member',
            invited: false,
            added: false,
          });
          continue;
        }
        if (!created && !direct) {
          out.push(
            await this.inviteInstead(tx, p, a.workspace, user.id, address, role, invitations),
          );
          continue;
        }
        await this.repo.insertMember(tx, member(a.workspace.id, user.id, role));
        // Added directly: a pending invitation of theirs to this workspace has nothing left to do.
        const revoked = await this.invitations.revokePendingFor(tx, a.workspace.id, address);
        await this.audit.record(tx, {
          actorId: p.userId,
          action: 'workspace.member_add',
          targetType: 'workspace',
          targetId: a.workspace.id,
          changes: {
            userId: user.id,
            role: { from: null, to: role },
            invited: created,
            ...(revoked.length ? { invitationsRevoked: revoked } : {}),
          },
        });
        if (user.status === 'pending') {
          const token = await this.auth.issueToken(
            tx,
            user.id,
            'invitation',
            this.config.activationHours * 60,
          );
          activations.push({ email: address, token, title: a.workspace.title });
        }
        out.push({ ...item, role, status: 'added', invited: created, added: true });
      }
      return out;
    });
    for (const m of activations) this.sendInvitation(p, m);
    for (const m of invitations) this.invitations.sendInvitation(p, m.title, m.email, m.token);
    return result;
  }

  /**
   * The consent path of adding someone who is not a member: an invitation with the role (made and
   * audited in `tx`, queued on `mails` to send after commit) instead of a membership.
   */
  private async inviteInstead(
    tx: Tx,
    p: Principal,
    workspace: Workspace,
    userId: string,
    email: string,
    role: WorkspaceRole,
    mails: { email: string; token: string; title: string }[],
  ): Promise<AddedWorkspaceUser> {
    const inv = await this.invitations.createPending(
      tx,
      p,
      workspace.id,
      email,
      role,
      new Date(),
      'workspace.users',
    );
    mails.push({ email, token: inv.token, title: workspace.title });
    return {
      userId,
      workspace: workspace.domain,
      role,
      status: 'invited',
      invited: true,
      added: false,
      invitationId: inv.id,
    };
  }

  private sendInvitation(p: Principal, inv: { email: string; token: string; title: string }): void {
    const link = this.mail.link(`/activate?token=${encodeURIComponent(inv.token)}`);
    this.mail.sendInBackground({
      to: inv.email,
      subject: `You are invited to the Gatehouse workspace ${inv.title}`,
      text: `${p.email ?? 'Gatehouse'} invited you to the workspace "${inv.title}".\n\nSet your password and sign in: ${link}\n\nOr sign in through your organisation's identity provider with this email address.\nThe link works once and expires in ${this.config.activationHours} hours.`,
    });
  }

  /**
   * Changes a member's role, or brings in a user (by id) with a role. As with adding by email, a
   * non-member joins at once only when a server admin (`users.manage`) asks; a workspace admin
   * who is not one sends them an invitation (mailed after commit) and nothing is joined until
   * they accept. A service account (no email, no sign-in) cannot accept one and is the
   * organisation's machine, not a person to ask: it joins at once. Demoting the last admin: 422.
   */
  async setUserRole(
    p: Principal,
    domain: string,
    userId: string,
    role: WorkspaceRole,
  ): Promise<AddedWorkspaceUser> {
    const direct = permits(p.permissions, 'users.manage');
    const mails: { email: string; token: string; title: string }[] = [];
    const result = await this.db.transaction(async (tx): Promise<AddedWorkspaceUser> => {
      // Emptied on each attempt: a deadlocked transaction runs again from the start.
      mails.length = 0;
      const a = await this.requireAdmin(tx, p, domain);
      const target: User = await this.users.requireUser(userId, tx);
      const existing = await this.repo.lockMember(tx, a.workspace.id, target.id);
      const item = { userId: target.id, workspace: a.workspace.domain, role };
      if (!existing && !direct && target.email && target.kind !== 'service')
        return this.inviteInstead(tx, p, a.workspace, target.id, target.email, role, mails);
      if (existing?.role === 'admin' && role !== 'admin') {
        await this.assertNotLastAdmin(tx, a.workspace.id);
      }
      if (existing) await this.repo.setRole(tx, a.workspace.id, target.id, role);
      else await this.repo.insertMember(tx, member(a.workspace.id, target.id, role));
      // Added directly: a pending invitation of theirs to this workspace has nothing left to do.
      const revoked =
        !existing && target.email
          ? await this.invitations.revokePendingFor(tx, a.workspace.id, target.email)
          : [];
      await this.audit.record(tx, {
        actorId: p.userId,
        action: existing ? 'workspace.member_role' : 'workspace.member_add',
        targetType: 'workspace',
        targetId: a.workspace.id,
        changes: {
          userId: target.id,
          role: { from: existing?.role ?? null, to: role },
          ...(revoked.length ? { invitationsRevoked: revoked } : {}),
        },
      });
      return { ...item, status: existing ? 'member' : 'added', invited: false, added: !existing };
    });
    for (const m of mails) this.invitations.sendInvitation(p, m.title, m.email, m.token);
    return result;
  }

  /** Removes the user and their group and project memberships in this workspace. */
  async removeUser(p: Principal, domain: string, userId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const a = await this.requireAdmin(tx, p, domain);
      const existing = await this.repo.lockMember(tx, a.workspace.id, userId);
      if (!existing) throw AppException.notFound('Workspace member');
      if (existing.role === 'admin') await this.assertNotLastAdmin(tx, a.workspace.id);
      // Their group and project memberships in this workspace go with them.
      await this.groups.removeUserFromWorkspaceGroups(tx, a.workspace.id, userId);
      await this.projects.removeUserFromWorkspaceProjects(tx, a.workspace.id, userId);
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
  private requireAdmin(tx: Tx, p: Principal, domain: string): Promise<WorkspaceAccess> {
    // Locked first: on MySQL the reads then see the latest committed memberships (an admin
    // demoted by a concurrent request is refused here, not judged on a stale snapshot).
    return this.access.workspace(p, { domain }, 'admin', { tx, lock: true });
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
