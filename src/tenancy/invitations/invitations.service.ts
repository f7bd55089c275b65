import { Injectable } from '@nestjs/common';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { generateToken, sha256Hex } from '#src/crypto/tokens.js';
import { PasswordService } from '#src/crypto/password.service.js';
import { Database, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { AuditService } from '#src/audit/audit.service.js';
import type { Principal } from '#src/kernel/principal.js';
import { UserEventBus } from '#src/kernel/events.js';
import { MailService } from '#src/mail/mail.service.js';
import type { User } from '#src/users/user.entity.js';
import type { UserResponse } from '#src/users/user.mapper.js';
import { UsersService } from '#src/users/users.service.js';
import { AccessService } from '#src/tenancy/access/access.service.js';
import { Invitation, type InvitationStatus } from '#src/tenancy/entities/invitation.entity.js';
import { WorkspaceMember, type WorkspaceRole } from '#src/tenancy/entities/workspace.entity.js';
import { InvitationsRepository } from '#src/tenancy/invitations/invitations.repository.js';
import { WorkspacesRepository } from '#src/tenancy/workspaces/workspaces.repository.js';

const TOKEN_PREFIX = 'gthi_';

export interface InvitationResult {
  email: string;
  /** 201: invitation made (and mailed); 409: already a member. */
  status: 201 | 409;
  id?: string;
}

export interface InvitationView {
  id: string;
  email: string;
  role: WorkspaceRole;
  status: InvitationStatus;
  invitedBy: string | null;
  createdAt: string;
  expiresAt: string;
}

/** Why a token cannot be used: what the `/invite` page and the API say. */
export type TokenProblem = 'invalid' | 'used' | 'expired' | 'revoked';

export class InvitationTokenError extends AppException {
  constructor(readonly problem: TokenProblem) {
    super(
      'validation_failed',
      `token: ${TOKEN_MESSAGES[problem]}`,
      [{ field: 'token', message: TOKEN_MESSAGES[problem] }],
      { reason: problem },
    );
  }
}

const TOKEN_MESSAGES: Record<TokenProblem, string> = {
  invalid: 'is not a valid invitation',
  used: 'was already accepted or declined',
  expired: 'has expired',
  revoked: 'was revoked by the workspace',
};

/** What the `/invite` page shows before anything is spent. */
export interface InvitationPreview {
  invitation: Invitation;
  workspaceTitle: string;
  inviterEmail: string | null;
  /** An account with this email exists and has a password: it accepts by signing in. */
  accountHasPassword: boolean;
}

export interface AcceptResult {
  workspace: string;
  role: WorkspaceRole;
  user: UserResponse;
}

/**
 * Workspace invitations: a workspace admin invites emails with a role; the invitee accepts (joins)
 * or declines from the mailed `/invite?token=` link. The token is single use and stored hashed.
 *
 * - A person with an account that has a password accepts while signed in as that email (the token
 *   alone is not enough: it could have been forwarded).
 * - A person with no account, or an account without a password (an invited pending user, an
 *   identity-provider-only account), accepts with the token and a new password under the policy:
 *   the account is created (or completed) at acceptance, active, with the email verified (the mail
 *   proved it). No account is made when the invitation is sent.
 * - Declining needs only the token (it changes nothing but the invitation).
 */
@Injectable()
export class InvitationsService {
  constructor(
    private readonly db: Database,
    private readonly repo: InvitationsRepository,
    private readonly access: AccessService,
    private readonly workspaces: WorkspacesRepository,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly events: UserEventBus,
    private readonly config: AppConfig,
  ) {}

  async invite(
    p: Principal,
    domain: string,
    emails: string[],
    role: WorkspaceRole,
  ): Promise<InvitationResult[]> {
    const unique = [...new Map(emails.map((e) => [e.trim().toLowerCase(), e.trim()])).values()];
    const mails: { email: string; token: string }[] = [];
    let title = '';
    const results = await this.db.transaction(async (tx) => {
      mails.length = 0; // a retried transaction starts again
      const a = await this.access.workspace(p, { domain }, 'admin', { tx, lock: true });
      title = a.workspace.title;
      const out: InvitationResult[] = [];
      const now = new Date();
      for (const email of unique) {
        const user = await this.users.findByEmail(email, tx);
        if (user && (await this.workspaces.lockMember(tx, a.workspace.id, user.id))) {
          out.push({ email, status: 409 });
          continue;
        }
        const made = await this.createPending(tx, p, a.workspace.id, email, role, now);
        mails.push({ email, token: made.token });
        out.push({ email, status: 201, id: made.id });
      }
      return out;
    });
    for (const m of mails) this.sendInvitation(p, title, m.email, m.token);
    return results;
  }

  /**
   * Makes (and audits) one pending invitation in the caller's transaction; the caller checked the
   * inviter may, and mails the token after commit with `sendInvitation`. A new invitation replaces
   * a pending one to the same email (the old link stops working). `via` tells the audit entry which
   * route asked, when not the invitations route.
   */
  async createPending(
    tx: Tx,
    p: Principal,
    workspaceId: string,
    email: string,
    role: WorkspaceRole,
    now = new Date(),
    via?: string,
  ): Promise<{ id: string; token: string }> {
    const replaced = await this.revokePendingFor(tx, workspaceId, email);
    const token = generateToken(TOKEN_PREFIX);
    const inv = new Invitation();
    inv.id = newId();
    inv.workspaceId = workspaceId;
    inv.email = email;
    inv.emailNormalized = email.toLowerCase();
    inv.role = role;
    inv.tokenHash = sha256Hex(token);
    inv.invitedBy = p.userId;
    inv.status = 'pending';
    inv.createdAt = now;
    inv.expiresAt = new Date(now.getTime() + this.config.invitationDays * 86_400_000);
    inv.decidedAt = null;
    inv.decidedBy = null;
    await this.repo.insert(tx, inv);
    await this.audit.record(tx, {
      actorId: p.userId,
      action: 'invitation.create',
      targetType: 'workspace',
      targetId: workspaceId,
      changes: {
        invitationId: inv.id,
        email,
        role,
        expiresAt: inv.expiresAt.toISOString(),
        replaced,
        ...(via !== undefined ? { via } : {}),
      },
    });
    return { id: inv.id, token };
  }

  /**
   * Closes (as revoked) the pending invitations of this email to the workspace: it was added
   * directly, so their links must not join it again. Returns their ids for the caller's audit entry.
   */
  async revokePendingFor(tx: Tx, workspaceId: string, email: string): Promise<string[]> {
    const rows = await this.repo.pendingFor(tx, workspaceId, email.toLowerCase());
    for (const r of rows) await this.repo.decide(tx, r.id, 'revoked', null);
    return rows.map((r) => r.id);
  }

  /** Mails the `/invite` link (after the transaction that made the invitation committed). */
  sendInvitation(p: Principal, title: string, to: string, token: string): void {
    // A service account (no email) invites in Gatehouse's name.
    const inviter = p.email ?? 'Gatehouse';
    const link = this.mail.link(`/invite?token=${encodeURIComponent(token)}`);
    this.mail.sendInBackground({
      to,
      subject: `Invitation to the Gatehouse workspace ${title}`,
      text: `${inviter} invited you to the workspace "${title}".\n\nOpen the invitation to accept or decline it: ${link}\n\nThe link works once and expires in ${this.config.invitationDays} days. If you do not know why you got this, ignore it or decline.`,
    });
  }

  async listPending(
    p: Principal,
    domain: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<InvitationView>> {
    const a = await this.access.workspace(p, { domain }, 'admin');
    const after = decodeCursor(cursor, 1)?.[0];
    const rows = await this.repo.listPending(
      a.workspace.id,
      after === undefined ? null : String(after),
      limit + 1,
    );
    return toPage(
      rows,
      limit,
      (r) => [r.id],
      (r) => toView(r),
    );
  }

  async revoke(p: Principal, domain: string, id: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const a = await this.access.workspace(p, { domain }, 'admin', { tx, lock: true });
      const inv = await this.repo.findPending(tx, id, a.workspace.id);
      if (!inv || !(await this.repo.decide(tx, id, 'revoked', p.userId)))
        throw AppException.notFound('Invitation');
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'invitation.revoke',
        targetType: 'workspace',
        targetId: a.workspace.id,
        changes: { invitationId: id, email: inv.email, status: { from: 'pending', to: 'revoked' } },
      });
    });
  }

  /** The invitation behind a token, without spending it (the page's GET). */
  async preview(token: unknown): Promise<InvitationPreview> {
    const inv = await this.findUsable(token);
    const ws = await this.workspaces.findById(inv.workspaceId);
    if (!ws) throw new InvitationTokenError('invalid');
    const inviter = inv.invitedBy ? await this.users.findById(inv.invitedBy) : null;
    const user = await this.users.findByEmail(inv.email);
    const withHash = user ? await this.users.findByIdWithPasswordHash(user.id) : null;
    return {
      invitation: inv,
      workspaceTitle: ws.title,
      inviterEmail: inviter?.email ?? null,
      accountHasPassword: Boolean(withHash?.passwordHash),
    };
  }

  /** The token's invitation if it can still be decided; else why not. Locks it when `lock`. */
  private async findUsable(token: unknown, tx?: Tx): Promise<Invitation> {
    if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX) || token.length > 200)
      throw new InvitationTokenError('invalid');
    const inv = await this.repo.findByTokenHash(sha256Hex(token), tx);
    if (!inv) throw new InvitationTokenError('invalid');
    if (inv.status === 'revoked') throw new InvitationTokenError('revoked');
    if (inv.status !== 'pending') throw new InvitationTokenError('used');
    if (inv.expiresAt.getTime() <= Date.now()) throw new InvitationTokenError('expired');
    return inv;
  }

  /**
   * Accepts: joins the workspace with the invited role. `caller` is whoever the request is signed in
   * as (or null). See the class comment for who may accept.
   */
  async accept(
    token: unknown,
    password: string | undefined,
    caller: Principal | null,
  ): Promise<AcceptResult> {
    if (password !== undefined) this.passwords.check(password);
    const hash = password !== undefined ? await this.passwords.hash(password) : null;
    return this.db.transaction(async (tx) => {
      const inv = await this.findUsable(token, tx);
      const ws = await this.workspaces.findById(inv.workspaceId, tx);
      if (!ws) throw new InvitationTokenError('invalid');
      const existing = await this.users.findByEmail(inv.email, tx);
      const withHash = existing ? await this.users.findByIdWithPasswordHash(existing.id, tx) : null;
      let user: User;
      if (existing && withHash?.passwordHash) {
        // Known person with a password: only while signed in as them.
        if (!caller)
          throw AppException.unauthenticated(`Sign in as ${inv.email} to accept this invitation.`);
        if (caller.userId !== existing.id)
          throw AppException.forbidden(
            'This invitation is for another account: sign in as the invited email address.',
          );
        if (password !== undefined)
          throw AppException.invalid('password', 'must not be sent: the account has a password');
        if (existing.status === 'disabled')
          throw AppException.forbidden('This account is disabled.');
        user = existing;
        if (!existing.emailVerified) {
          await this.users.applyChanges(tx, existing, { emailVerified: true });
          await this.audit.record(tx, {
            actorId: existing.id,
            action: 'user.update',
            targetType: 'user',
            targetId: existing.id,
            changes: { emailVerified: { from: false, to: true }, via: 'invitation' },
          });
        }
      } else if (existing) {
        // An account without a password (invited pending user, provider-only account).
        if (existing.status === 'disabled')
          throw AppException.forbidden('This account is disabled.');
        const signedInAsIt = caller?.userId === existing.id;
        if (hash === null && !signedInAsIt)
          throw AppException.invalid('password', 'is required: the account has no password yet');
        const changes: Partial<User> = { status: 'active', emailVerified: true };
        if (hash !== null) changes.passwordHash = hash;
        await this.users.applyChanges(tx, existing, changes);
        if (hash !== null) {
          // A password set from a mailed token: any other credential of the account ends.
          await this.events.emit(tx, 'user.credentials-changed', {
            userId: existing.id,
            keepSessionId: null,
          });
        }
        await this.audit.record(tx, {
          actorId: existing.id,
          action: 'user.activate',
          targetType: 'user',
          targetId: existing.id,
          changes: {
            status: { from: existing.status, to: 'active' },
            emailVerified: true,
            passwordSet: hash !== null,
            via: 'invitation',
          },
        });
        user = await this.users.requireUser(existing.id, tx);
      } else {
        // Nobody has this email: the account is made now, active, its email proven by the mail.
        if (password === undefined)
          throw AppException.invalid('password', 'is required to create the account');
        user = await this.users.createUser(
          tx,
          { email: inv.email, password, status: 'active', emailVerified: true, role: 'user' },
          null,
        );
      }
      const member = await this.workspaces.lockMember(tx, ws.id, user.id);
      if (!member) {
        const m = new WorkspaceMember();
        m.workspaceId = ws.id;
        m.userId = user.id;
        m.role = inv.role;
        m.createdAt = new Date();
        await this.workspaces.insertMember(tx, m);
      }
      await this.decide(tx, inv, 'accepted', user.id);
      await this.audit.record(tx, {
        actorId: user.id,
        action: 'workspace.member_add',
        targetType: 'workspace',
        targetId: ws.id,
        changes: {
          userId: user.id,
          role: { from: member?.role ?? null, to: member?.role ?? inv.role },
          invitationId: inv.id,
          via: 'invitation',
        },
      });
      return {
        workspace: ws.domain,
        role: member?.role ?? inv.role,
        user: await this.users.toResponse(user),
      };
    });
  }

  /** Declines: the token alone is enough (it only closes the invitation). */
  async decline(token: unknown, caller: Principal | null): Promise<void> {
    await this.db.transaction(async (tx) => {
      const inv = await this.findUsable(token, tx);
      const user = await this.users.findByEmail(inv.email, tx);
      await this.decide(tx, inv, 'declined', user?.id ?? null);
      await this.audit.record(tx, {
        actorId: caller?.userId ?? user?.id ?? null,
        action: 'invitation.decline',
        targetType: 'workspace',
        targetId: inv.workspaceId,
        changes: {
          invitationId: inv.id,
          email: inv.email,
          status: { from: 'pending', to: 'declined' },
        },
      });
    });
  }

  private async decide(
    tx: Tx,
    inv: Invitation,
    status: 'accepted' | 'declined',
    by: string | null,
  ): Promise<void> {
    if (!(await this.repo.decide(tx, inv.id, status, by))) throw new InvitationTokenError('used');
  }
}

function toView(i: Invitation): InvitationView {
  return {
    id: i.id,
    email: i.email,
    role: i.role,
    status: i.status,
    invitedBy: i.invitedBy,
    createdAt: i.createdAt.toISOString(),
    expiresAt: i.expiresAt.toISOString(),
  };
}
