import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { permits } from '#src/kernel/permissions.js';
import { Database, type Tx } from '#src/database/database.service.js';
import { AuditService, type AuditEntryView } from '#src/audit/audit.service.js';
import { PasswordService } from '#src/crypto/password.service.js';
import {
  assertMayChangeCredentials,
  type Principal,
  type ServerRole,
} from '#src/kernel/principal.js';
import type { CreateUserDto, ListUsersQuery, UpdateUserDto } from '#src/users/dto/users.dto.js';
import { assertHoldsAll, can } from '#src/kernel/anti-escalation.js';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';
import type { Role } from '#src/users/role.entity.js';
import type { User } from '#src/users/user.entity.js';
import {
  ownUserDetail,
  toUserDetail,
  toUserResponse,
  type UserDetailResponse,
  type UserResponse,
} from '#src/users/user.mapper.js';
import { UsersRepository } from '#src/users/users.repository.js';
import { normaliseName, UsersService } from '#src/users/users.service.js';
import { UserEventBus } from '#src/kernel/events.js';

const DATA_MAX_BYTES = 32 * 1024;
const DATA_KEY_MAX = 100;
// Larger data diffs are audited by key only, so an entry never outgrows its column.
const DATA_AUDIT_MAX_BYTES = 8 * 1024;
const ADMIN_ONLY_FIELDS = ['role', 'roles', 'status', 'password'] as const;
const UPDATABLE_FIELDS = ['fullName', ...ADMIN_ONLY_FIELDS, 'data'] as const;

type Change = { from: unknown; to: unknown };

/** Managing user accounts: listing, admin creation, profile changes, deletion, activation, logs. */
@Injectable()
export class UserManagementService {
  constructor(
    private readonly db: Database,
    private readonly repo: UsersRepository,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly audit: AuditService,
    private readonly catalogue: PermissionCatalogue,
    private readonly events: UserEventBus,
  ) {}

  /** `me` is the caller. */
  private idOf(p: Principal, id: string): string {
    return id === 'me' ? p.userId : id;
  }

  /** A page of users, all of them or only those among `ids` (who may see whom is the caller's rule). */
  async list(q: ListUsersQuery, ids?: string[]): Promise<Page<UserResponse | UserDetailResponse>> {
    const limit = q.limit ?? 50;
    const cursor = decodeCursor(q.cursor, 2);
    const rows = await this.repo.search({
      ids,
      query: q.query,
      limit: limit + 1,
      after: cursor ? [String(cursor[0]), String(cursor[1])] : null,
    });
    const roles = await this.repo.roleNamesOfMany(rows.map((u) => u.id));
    const map = q.include === 'config' ? toUserDetail : toUserResponse;
    return toPage(
      rows,
      limit,
      (u) => [u.emailNormalized ?? '', u.id],
      (u) => map(u, roles.get(u.id) ?? []),
    );
  }

  /** Admin creation: active or pending (per call); the email is verified only when the admin says so. */
  async create(p: Principal, dto: CreateUserDto): Promise<UserDetailResponse> {
    if (dto.password !== undefined) this.passwords.check(dto.password);
    const user = await this.db.transaction(async (tx) => {
      if (dto.username !== undefined && (await this.users.findByUsername(dto.username, tx)))
        throw AppException.conflict('A user with this username already exists.', 'username');
      const named = await this.namedRoles(tx, dto.roles ?? []);
      assertHoldsAll(p, this.permissionsOf(dto.role ?? 'user', named), 'Creating this user');
      return this.users.createUser(
        tx,
        {
          email: dto.email,
          password: dto.password ?? null,
          fullName: dto.fullName ?? null,
          role: dto.role ?? 'user',
          roles: dto.roles ?? [],
          username: dto.username ?? null,
          status: dto.status ?? 'active',
          emailVerified: dto.emailVerified ?? false,
        },
        p.userId,
      );
    });
    return this.detail(user);
  }

  async get(p: Principal, id: string): Promise<UserDetailResponse> {
    const userId = this.idOf(p, id);
    // Oneself: the principal carries the user row and role names (as fresh as the principal).
    return userId === p.userId && p.user
      ? ownUserDetail(p.user, p.roles)
      : this.detail(await this.users.requireUser(userId));
  }

  /**
   * Self may change fullName and data; role, roles, status and password need users.manage. Demoting
   * or disabling the last active admin is refused, with the admin rows locked so two concurrent
   * demotions cannot both pass the check.
   */
  async update(p: Principal, id: string, dto: UpdateUserDto): Promise<UserDetailResponse> {
    const userId = this.idOf(p, id);
    const given = UPDATABLE_FIELDS.filter((f) => dto[f] !== undefined);
    if (given.length === 0)
      throw AppException.invalid(
        'body',
        `must change at least one of ${UPDATABLE_FIELDS.join(', ')}`,
      );
    const manager = can(p, 'users.manage');
    const adminOnly = ADMIN_ONLY_FIELDS.filter((f) => dto[f] !== undefined);
    if (!manager && adminOnly.length)
      throw AppException.forbidden(`Only an admin may change ${adminOnly.join(', ')}.`);
    if (!manager && (p.role === 'reader' || p.role === 'demo'))
      throw AppException.forbidden(`A ${p.role} account cannot change anything.`);
    // A narrowed credential (API key scopes, a grant limited to project permissions) never acts
    // beyond its narrowing: a key scoped to `items.read` does not edit its owner's profile.
    if (
      !manager &&
      (p.scopes !== null || p.projectPermissions !== null) &&
      !permits(p.scopes ?? [], 'users.manage')
    )
      throw AppException.forbidden('This credential is narrowed: it cannot change the profile.');
    if (dto.data !== undefined) checkDataKeys(dto.data);
    if (dto.password !== undefined) assertMayChangeCredentials(p);
    if (dto.password !== undefined) this.passwords.check(dto.password);
    // bcrypt outside the transaction: it must not hold row locks (or SQLite's queue) for its duration.
    const passwordHash =
      dto.password !== undefined ? await this.passwords.hash(dto.password) : undefined;

    const user = await this.db.transaction(async (tx) => {
      const admins =
        dto.role !== undefined || dto.status !== undefined
          ? await this.repo.lockActiveAdmins(tx)
          : null;
      const user = await this.repo.lockById(tx, userId);
      if (!user) throw AppException.notFound('User');
      if (dto.version !== undefined && dto.version !== user.version)
        throw staleVersion(user.version);
      const currentRoles = await this.repo.rolesOfInTx(tx, user.id);
      if (adminOnly.length && user.id !== p.userId)
        assertHoldsAll(p, this.permissionsOf(user.role, currentRoles), 'Managing this user');

      const changes: Partial<User> = {};
      const audit: Record<string, unknown> = {};
      if (dto.fullName !== undefined && (dto.fullName ?? null) !== user.fullName) {
        changes.fullName = dto.fullName;
        changes.fullNameNormalized = normaliseName(dto.fullName);
        audit.fullName = { from: user.fullName, to: dto.fullName };
      }
      if (dto.role !== undefined && dto.role !== user.role) {
        changes.role = dto.role;
        audit.role = { from: user.role, to: dto.role };
      }
      if (dto.status !== undefined && dto.status !== user.status) {
        changes.status = dto.status;
        audit.status = { from: user.status, to: dto.status };
      }
      if (dto.data !== undefined) {
        const { next, diff } = mergeData(user.data, dto.data);
        if (Object.keys(diff).length) {
          changes.data = next;
          audit.data = auditableDataDiff(diff);
        }
      }
      let newRoles = currentRoles;
      if (dto.roles !== undefined) {
        newRoles = await this.namedRoles(tx, dto.roles);
        const before = currentRoles.map((r) => r.name);
        const after = newRoles.map((r) => r.name).sort();
        if (before.join('\n') !== after.join('\n')) audit.roles = { from: before, to: after };
        else newRoles = currentRoles;
      }
      if (audit.role || audit.roles) {
        assertHoldsAll(
          p,
          this.permissionsOf(changes.role ?? user.role, newRoles),
          'Granting these roles',
        );
      }
      if (passwordHash !== undefined) {
        changes.passwordHash = passwordHash;
        audit.alsoChanged = ['password'];
      }
      if (Object.keys(audit).length === 0) return user;

      const wasAdmin = user.role === 'admin' && user.status === 'active';
      const staysAdmin =
        (changes.role ?? user.role) === 'admin' && (changes.status ?? user.status) === 'active';
      if (wasAdmin && !staysAdmin && !admins?.some((a) => a !== user.id)) {
        throw AppException.rule(
          'last_admin',
          'This is the last active admin: make another admin first.',
          audit.role ? 'role' : 'status',
        );
      }
      if (!(await this.repo.updateVersioned(tx, user, changes))) throw staleVersion(user.version);
      if (audit.roles)
        await this.repo.setRoles(
          tx,
          user.id,
          newRoles.map((r) => r.id),
        );
      if (changes.status === 'disabled')
        await this.events.emit(tx, 'user.disabled', { userId: user.id });
      if (passwordHash !== undefined) {
        const keep =
          user.id === p.userId && p.credential.kind === 'session' ? p.credential.id : null;
        await this.events.emit(tx, 'user.credentials-changed', {
          userId: user.id,
          keepSessionId: keep,
        });
      }
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'user.update',
        targetType: 'user',
        targetId: user.id,
        changes: audit,
      });
      return this.users.requireUser(user.id, tx);
    });
    return this.detail(user);
  }

  /**
   * Deletes the user; FK cascades remove what is only theirs. Entries about the user's record are
   * redacted (the chain stays verifiable); entries of what they did keep their id as a pseudonym.
   */
  async delete(p: Principal, id: string, missingOk = false): Promise<void> {
    const userId = this.idOf(p, id);
    await this.db.transaction(async (tx) => {
      const admins = await this.repo.lockActiveAdmins(tx);
      const user = await this.repo.lockById(tx, userId);
      if (!user) {
        if (missingOk) return;
        throw AppException.notFound('User');
      }
      if (user.id !== p.userId) {
        const roles = await this.repo.rolesOfInTx(tx, user.id);
        assertHoldsAll(p, this.permissionsOf(user.role, roles), 'Deleting this user');
      }
      if (admins.includes(user.id) && admins.length <= 1)
        throw AppException.rule('last_admin', 'The last active admin cannot be deleted.');
      await this.events.emit(tx, 'user.deleting', { userId: user.id });
      await this.audit.redactTarget(tx, 'user', user.id);
      await this.repo.delete(tx, user.id);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'user.delete',
        targetType: 'user',
        targetId: user.id,
        changes: { role: user.role, status: user.status },
      });
    });
  }

  /** Pending → active with a verified email. Already active: unchanged. Disabled: 422. */
  async activate(p: Principal, id: string): Promise<UserDetailResponse> {
    const userId = this.idOf(p, id);
    const user = await this.db.transaction(async (tx) => {
      const user = await this.repo.lockById(tx, userId);
      if (!user) throw AppException.notFound('User');
      if (user.status === 'disabled') {
        throw AppException.rule(
          'user_disabled',
          'A disabled user is re-enabled with PATCH {"status": "active"}, not activated.',
        );
      }
      if (user.status === 'active') return user;
      const changes: Partial<User> = { status: 'active', emailVerified: true };
      if (!(await this.repo.updateVersioned(tx, user, changes))) throw staleVersion(user.version);
      const audit: Record<string, Change> = { status: { from: user.status, to: 'active' } };
      if (!user.emailVerified) audit.emailVerified = { from: false, to: true };
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'user.activate',
        targetType: 'user',
        targetId: user.id,
        changes: audit,
      });
      return this.users.requireUser(user.id, tx);
    });
    return this.detail(user);
  }

  /** Changes made to the user's record, newest first (also after deletion, redacted). */
  log(p: Principal, id: string, limit: number, cursor?: string): Promise<Page<AuditEntryView>> {
    return this.audit.listForTarget('user', this.idOf(p, id), limit, cursor);
  }

  /** Changes the user made anywhere, newest first. */
  actions(p: Principal, id: string, limit: number, cursor?: string): Promise<Page<AuditEntryView>> {
    return this.audit.listByActor(this.idOf(p, id), limit, cursor);
  }

  private async detail(user: User): Promise<UserDetailResponse> {
    return toUserDetail(user, await this.repo.roleNamesOf(user.id));
  }

  /** Named roles by name, sorted; unknown names: 400 naming them. */
  private async namedRoles(tx: Tx, names: string[]): Promise<Role[]> {
    const unique = [...new Set(names)];
    const found = await this.repo.findRolesByNames(unique, tx);
    const missing = unique.filter((n) => !found.some((r) => r.name === n));
    if (missing.length)
      throw AppException.invalid('roles', `unknown role(s): ${missing.join(', ')}`);
    return found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  private permissionsOf(role: ServerRole, named: Role[]): string[] {
    return this.catalogue.serverPermissions(
      role,
      named.flatMap((r) => r.permissions),
    );
  }
}

function staleVersion(current: number): AppException {
  return AppException.conflict(
    `The user was changed meanwhile (now version ${current}); reload and retry.`,
    'version',
  );
}

function checkDataKeys(patch: Record<string, unknown>): void {
  for (const key of Object.keys(patch)) {
    if (key.length === 0 || key.length > DATA_KEY_MAX)
      throw AppException.invalid('data', `keys must be 1 to ${DATA_KEY_MAX} characters`);
    if (key === '__proto__') throw AppException.invalid('data', 'the key __proto__ is not allowed');
  }
}

/** Merges custom data: a null value deletes its key. Returns only what really changed. */
export function mergeData(
  current: Record<string, unknown> | null,
  patch: Record<string, unknown>,
): { next: Record<string, unknown>; diff: Record<string, Change> } {
  const next = new Map(Object.entries(current ?? {}));
  const diff: Record<string, Change> = {};
  for (const [key, value] of Object.entries(patch)) {
    const before = next.has(key) ? next.get(key) : null;
    if (value === null) {
      if (next.delete(key)) diff[key] = { from: before, to: null };
    } else if (JSON.stringify(before) !== JSON.stringify(value)) {
      next.set(key, value);
      diff[key] = { from: before, to: value };
    }
  }
  const merged = Object.fromEntries(next);
  if (Buffer.byteLength(JSON.stringify(merged), 'utf8') > DATA_MAX_BYTES)
    throw AppException.invalid('data', `must stay under ${DATA_MAX_BYTES / 1024} KiB in total`);
  return { next: merged, diff };
}

function auditableDataDiff(diff: Record<string, Change>): unknown {
  return Buffer.byteLength(JSON.stringify(diff), 'utf8') > DATA_AUDIT_MAX_BYTES
    ? { changedKeys: Object.keys(diff) }
    : diff;
}
