import { Injectable } from '@nestjs/common';
import { AuditService } from '#src/audit/audit.service.js';
import { AppConfig } from '#src/config/config.js';
import { Database, type Tx } from '#src/database/database.service.js';
import { isUuid } from '#src/database/ids.js';
import {
  WorkspaceProvisioningService,
  type MembershipState,
} from '#src/tenancy/workspaces/workspace-provisioning.service.js';
import type { User } from '#src/users/user.entity.js';
import { normaliseName, UsersService } from '#src/users/users.service.js';
import { ScimException } from '#src/common/errors/scim-error.js';
import { readUser, type UserInput } from '#src/scim/scim-input.js';
import { applyPatch } from '#src/scim/scim-patch.js';
import {
  checkIfMatch,
  etagOf,
  listResponse,
  project,
  type ListParams,
  type ScimResource,
} from '#src/scim/scim-resources.js';
import { ENTERPRISE_SCHEMA, USER_SCHEMA } from '#src/scim/scim-schemas.js';
import type { ScimContext } from '#src/scim/scim-tokens.service.js';
import { ScimUser } from '#src/scim/scim-user.entity.js';
import { ScimRepository } from '#src/scim/scim.repository.js';

/** Top-level attributes a User PATCH may name (lower case); others are ignored. */
const USER_PATCHABLE: ReadonlySet<string> = new Set([
  'id',
  'meta',
  'schemas',
  'username',
  'name',
  'displayname',
  'externalid',
  'title',
  'active',
  'emails',
  'password',
  'urn:ietf:params:scim:schemas:core:2.0:user',
  ENTERPRISE_SCHEMA.toLowerCase(),
]);

export interface Written {
  resource: ScimResource;
  created: boolean;
}

/**
 * SCIM Users: the members of the token's workspace. The account (email, full name) is shared by
 * every workspace the person belongs to, so SCIM changes it only when this workspace's SCIM created
 * the account, the account belongs to no other workspace and is not a server admin; everything
 * else SCIM says about a person is kept for this workspace only (scim_users), and `active` is the
 * membership's suspension flag.
 */
@Injectable()
export class ScimUsersService {
  private readonly base: string;

  constructor(
    private readonly db: Database,
    private readonly repo: ScimRepository,
    private readonly users: UsersService,
    private readonly tenancy: WorkspaceProvisioningService,
    private readonly audit: AuditService,
    config: AppConfig,
  ) {
    this.base = `${config.publicUrl.replace(/\/$/, '')}/scim/v2`;
  }

  async list(ctx: ScimContext, p: ListParams): Promise<Record<string, unknown>> {
    const { ids, total } = await this.repo.searchUsers(ctx.workspaceId, {
      ...(p.filter !== undefined ? { filter: p.filter } : {}),
      ...(p.sortBy ? { sortBy: p.sortBy } : {}),
      descending: p.descending,
      offset: p.startIndex - 1,
      count: p.count,
    });
    const byId = new Map((await this.load(ctx, ids)).map((r) => [r.id, r]));
    const resources = ids
      .map((id) => byId.get(id))
      .filter((r): r is ScimResource => r !== undefined)
      .map((r) => project(r, p.attributes, p.excludedAttributes));
    return listResponse(resources, total, p.startIndex);
  }

  async get(ctx: ScimContext, id: string): Promise<ScimResource> {
    const [r] = isUuid(id) ? await this.load(ctx, [id]) : [];
    if (!r) throw ScimException.notFound('User');
    return r;
  }

  async create(ctx: ScimContext, body: unknown): Promise<Written> {
    const input = readUser(body);
    const id = await this.db.transaction(async (tx) => {
      const existing = await this.users.findByEmail(input.userName, tx);
      let user: User;
      let createdAccount = false;
      if (existing) {
        if (await this.tenancy.lockMembership(tx, ctx.workspaceId, existing.id))
          throw new ScimException(
            409,
            'This user is already a member of the workspace.',
            'uniqueness',
          );
        // An account that exists is added to the workspace as it is: nothing of it changes.
        user = existing;
      } else {
        user = await this.users.createUser(
          tx,
          {
            email: input.userName,
            password: null,
            fullName: fullNameOf(input),
            role: 'user',
            status: 'active',
            emailVerified: false,
          },
          ctx.tokenId,
        );
        createdAccount = true;
      }
      await this.tenancy.addMember(tx, ctx.workspaceId, user.id, !input.active, ctx.tokenId);
      const row = scimRow(ctx.workspaceId, user.id, input, null);
      row.createdAccount = createdAccount;
      await this.repo.saveScimUser(tx, row);
      await this.record(tx, ctx, 'scim.user_create', user.id, {
        ...auditable(input),
        createdAccount,
      });
      return user.id;
    });
    return { resource: await this.get(ctx, id), created: true };
  }

  async replace(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string,
  ): Promise<ScimResource> {
    const input = readUser(body);
    const bodyId = (body as { id?: unknown }).id;
    if (bodyId !== undefined && bodyId !== id)
      throw ScimException.mutability('id cannot be changed.');
    await this.db.transaction(async (tx) => {
      const current = await this.lockCurrent(tx, ctx, id);
      checkIfMatch(ifMatch, current.resource.meta.version);
      await this.write(tx, ctx, current, input);
    });
    return this.get(ctx, id);
  }

  async patch(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string,
  ): Promise<ScimResource> {
    await this.db.transaction(async (tx) => {
      const current = await this.lockCurrent(tx, ctx, id);
      checkIfMatch(ifMatch, current.resource.meta.version);
      const patched = applyPatch(current.resource, body, USER_PATCHABLE);
      if (patched.id !== id) throw ScimException.mutability('id cannot be changed.');
      await this.write(tx, ctx, current, readUser(patched));
    });
    return this.get(ctx, id);
  }

  async remove(ctx: ScimContext, id: string, ifMatch?: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const current = await this.lockCurrent(tx, ctx, id);
      checkIfMatch(ifMatch, current.resource.meta.version);
      await this.tenancy.removeMember(tx, ctx.workspaceId, id, ctx.tokenId);
      await this.record(tx, ctx, 'scim.user_delete', id, {});
    });
  }

  // Helpers

  private async lockCurrent(
    tx: Tx,
    ctx: ScimContext,
    id: string,
  ): Promise<{
    resource: ScimResource;
    member: MembershipState;
    user: User;
    scim: ScimUser | null;
  }> {
    const member = isUuid(id) ? await this.tenancy.lockMembership(tx, ctx.workspaceId, id) : null;
    if (!member) throw ScimException.notFound('User');
    const user = await this.users.lockForUpdate(tx, id);
    if (!user) throw ScimException.notFound('User');
    const [scim = null] = await this.repo.findScimUsers(ctx.workspaceId, [id], tx);
    return { resource: this.render(user, member, scim), member, user, scim };
  }

  /** Persists the difference between the stored state and `input`, under the isolation rule. */
  private async write(
    tx: Tx,
    ctx: ScimContext,
    current: { member: MembershipState; user: User; scim: ScimUser | null },
    input: UserInput,
  ): Promise<void> {
    const { user, member, scim } = current;
    const owned =
      (scim?.createdAccount ?? false) &&
      user.role !== 'admin' &&
      !(await this.tenancy.memberElsewhere(tx, user.id, ctx.workspaceId));
    const account: Partial<User> = {};
    // userName and the primary email are one value here: whichever the client changed wins.
    const wanted =
      input.userName.toLowerCase() === user.emailNormalized && input.email !== null
        ? input.email
        : input.userName;
    if (wanted.toLowerCase() !== user.emailNormalized) {
      if (!owned)
        throw ScimException.mutability(
          'userName cannot change: the account was not created by this workspace’s SCIM, or it also belongs to another workspace.',
        );
      const taken = await this.users.findByEmail(wanted, tx);
      if (taken) throw new ScimException(409, 'Another account has this userName.', 'uniqueness');
      account.email = wanted;
      account.emailNormalized = wanted.toLowerCase();
      account.emailVerified = false;
    }
    const fullName = fullNameOf(input);
    if (owned && fullName !== user.fullName) {
      account.fullName = fullName;
      account.fullNameNormalized = normaliseName(fullName);
    }
    if (Object.keys(account).length) {
      await this.users.applyChanges(tx, user, account);
      await this.audit.record(tx, {
        actorId: ctx.tokenId,
        action: 'user.update',
        targetType: 'user',
        targetId: user.id,
        changes: Object.fromEntries(
          Object.entries(account)
            .filter(([k]) => k === 'email' || k === 'fullName' || k === 'emailVerified')
            .map(([k, v]) => [k, { from: user[k as keyof User] ?? null, to: v }]),
        ),
      });
    }
    if (input.active === member.suspended)
      await this.tenancy.setSuspended(tx, ctx.workspaceId, user.id, !input.active, ctx.tokenId);
    await this.repo.saveScimUser(tx, scimRow(ctx.workspaceId, user.id, input, scim));
    await this.record(tx, ctx, 'scim.user_update', user.id, auditable(input));
  }

  private async record(
    tx: Tx,
    ctx: ScimContext,
    action: string,
    userId: string,
    changes: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record(tx, {
      actorId: ctx.tokenId,
      action,
      targetType: 'user',
      targetId: userId,
      changes: { workspaceId: ctx.workspaceId, scimTokenId: ctx.tokenId, ...changes },
    });
  }

  private async load(ctx: ScimContext, ids: string[]): Promise<ScimResource[]> {
    if (ids.length === 0) return [];
    const members = await this.tenancy.memberships(ctx.workspaceId, ids);
    const memberIds = members.map((m) => m.userId);
    const [users, scims] = await Promise.all([
      this.users.findByIds(memberIds),
      this.repo.findScimUsers(ctx.workspaceId, memberIds),
    ]);
    const out: ScimResource[] = [];
    for (const m of members) {
      const u = users.find((x) => x.id === m.userId);
      if (u) out.push(this.render(u, m, scims.find((s) => s.userId === u.id) ?? null));
    }
    return out;
  }

  render(user: User, member: MembershipState, scim: ScimUser | null): ScimResource {
    const name = compact({
      formatted: scim?.formattedName,
      familyName: scim?.familyName,
      givenName: scim?.givenName,
    });
    const enterprise = compact({
      employeeNumber: scim?.employeeNumber,
      organization: scim?.organization,
      department: scim?.department,
      manager: scim?.managerId ? { value: scim.managerId } : null,
    });
    const body = {
      schemas: Object.keys(enterprise).length ? [USER_SCHEMA, ENTERPRISE_SCHEMA] : [USER_SCHEMA],
      id: user.id,
      ...compact({ externalId: scim?.externalId }),
      // A service account (an OAuth client's) has no address: its id stands in (userName is required).
      userName: user.email ?? user.username ?? user.id,
      ...(Object.keys(name).length ? { name } : {}),
      ...compact({ displayName: scim?.displayName ?? user.fullName, title: scim?.title }),
      active: !member.suspended,
      ...(user.email ? { emails: [{ value: user.email, type: 'work', primary: true }] } : {}),
      ...(Object.keys(enterprise).length ? { [ENTERPRISE_SCHEMA]: enterprise } : {}),
    };
    const lastModified = scim?.updatedAt ?? member.createdAt;
    return {
      ...body,
      meta: {
        resourceType: 'User',
        created: member.createdAt.toISOString(),
        lastModified: lastModified.toISOString(),
        location: `${this.base}/Users/${user.id}`,
        version: etagOf(body),
      },
    };
  }
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined));
}

function fullNameOf(i: UserInput): string | null {
  return (
    i.displayName ??
    i.formattedName ??
    ([i.givenName, i.familyName].filter(Boolean).join(' ') || null)
  );
}

function auditable(i: UserInput): Record<string, unknown> {
  return { ...i };
}

function scimRow(
  workspaceId: string,
  userId: string,
  i: UserInput,
  prev: ScimUser | null,
): ScimUser {
  const r = new ScimUser();
  r.workspaceId = workspaceId;
  r.userId = userId;
  r.externalId = i.externalId;
  r.givenName = i.givenName;
  r.familyName = i.familyName;
  r.formattedName = i.formattedName;
  r.displayName = i.displayName;
  r.title = i.title;
  r.employeeNumber = i.employeeNumber;
  r.department = i.department;
  r.organization = i.organization;
  r.managerId = i.managerId;
  r.createdAccount = prev?.createdAccount ?? false;
  r.createdAt = prev?.createdAt ?? new Date();
  // Strictly later than before, so meta.lastModified moves on even within one millisecond.
  const now = Date.now();
  r.updatedAt = new Date(prev ? Math.max(now, prev.updatedAt.getTime() + 1) : now);
  r.version = (prev?.version ?? 0) + 1;
  return r;
}
