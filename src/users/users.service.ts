import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { Database, isUniqueViolation, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { AuditService } from '#src/audit/audit.service.js';
import { PasswordService } from '#src/crypto/password.service.js';
import type { CredentialKind, Principal, ServerRole } from '#src/kernel/principal.js';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';
import { narrowServerPermissions } from '#src/kernel/narrowing.js';
import { User, type UserKind, type UserStatus } from '#src/users/user.entity.js';
import { toUserResponse, type UserResponse } from '#src/users/user.mapper.js';
import { UsersRepository } from '#src/users/users.repository.js';

export interface NewUser {
  /** Null only for a service account (kind `service`). */
  email: string | null;
  password?: string | null;
  fullName?: string | null;
  username?: string | null;
  role?: ServerRole;
  roles?: string[];
  status: UserStatus;
  emailVerified: boolean;
  /** `service`: an OAuth client's account (no password, no browser sign-in). */
  kind?: UserKind;
  /** A given id (a service account takes its client's id); by default a new one. */
  id?: string;
}

export function normaliseName(s: string | null | undefined): string | null {
  return s ? s.trim().toLowerCase() : null;
}

@Injectable()
export class UsersService {
  constructor(
    private readonly db: Database,
    private readonly users: UsersRepository,
    private readonly passwords: PasswordService,
    private readonly audit: AuditService,
    private readonly catalogue: PermissionCatalogue,
  ) {}

  countUsers(tx?: Tx): Promise<number> {
    return this.users.count(tx);
  }

  findById(id: string, tx?: Tx): Promise<User | null> {
    return this.users.findById(id, tx);
  }

  findByIds(ids: string[]): Promise<User[]> {
    return ids.length ? this.users.findByIds(ids) : Promise.resolve([]);
  }

  findByEmail(email: string, tx?: Tx): Promise<User | null> {
    return this.users.findByEmail(email, tx);
  }

  findByUsername(username: string, tx?: Tx): Promise<User | null> {
    return this.users.findByUsername(username, tx);
  }

  findForSignIn(login: string): Promise<User | null> {
    return this.users.findForSignIn(login);
  }

  findByIdWithPasswordHash(id: string, tx?: Tx): Promise<User | null> {
    return this.users.findByIdWithPasswordHash(id, tx);
  }

  async requireUser(id: string, tx?: Tx): Promise<User> {
    const user = await this.users.findById(id, tx);
    if (!user) throw AppException.notFound('User');
    return user;
  }

  /** Resolves named role names to ids; unknown names are a 400 naming them. */
  async resolveRoleIds(names: string[], tx?: Tx, field = 'roles'): Promise<string[]> {
    const unique = [...new Set(names)];
    const found = await this.users.findRolesByNames(unique, tx);
    const missing = unique.filter((n) => !found.some((r) => r.name === n));
    if (missing.length) throw AppException.invalid(field, `unknown role(s): ${missing.join(', ')}`);
    return found.map((r) => r.id);
  }

  /** Creates a user inside the caller's transaction (with its audit entry). Duplicate email: 409. */
  async createUser(tx: Tx, input: NewUser, actorId: string | null): Promise<User> {
    if (input.password !== undefined && input.password !== null)
      this.passwords.check(input.password);
    const roleIds = input.roles?.length ? await this.resolveRoleIds(input.roles, tx) : [];
    const user = new User();
    user.id = input.id ?? newId();
    user.kind = input.kind ?? 'person';
    user.email = input.email?.trim() ?? null;
    user.emailNormalized = user.email?.toLowerCase() ?? null;
    user.username = input.username ?? null;
    user.usernameNormalized = normaliseName(input.username);
    user.fullName = input.fullName ?? null;
    user.fullNameNormalized = normaliseName(input.fullName);
    user.passwordHash = input.password ? await this.passwords.hash(input.password) : null;
    user.role = input.role ?? 'user';
    user.status = input.status;
    user.emailVerified = input.emailVerified;
    user.data = {};
    user.failedLogins = 0;
    user.lockCount = 0;
    user.lockedUntil = null;
    user.createdAt = new Date();
    user.updatedAt = user.createdAt;
    user.version = 1;
    try {
      await this.users.insert(tx, user);
    } catch (err) {
      if (isUniqueViolation(err))
        throw AppException.conflict('A user with this email or username already exists.', 'email');
      throw err;
    }
    if (roleIds.length) await this.users.setRoles(tx, user.id, roleIds);
    await this.audit.record(tx, {
      actorId: actorId ?? user.id,
      action: 'user.create',
      targetType: 'user',
      targetId: user.id,
      changes: {
        email: user.email,
        fullName: user.fullName,
        role: user.role,
        roles: input.roles ?? [],
        status: user.status,
        emailVerified: user.emailVerified,
        ...(user.kind === 'service' ? { kind: user.kind } : {}),
      },
    });
    return user;
  }

  /** Writes changed columns (bumping the row version); the caller records the audit entry. */
  async applyChanges(tx: Tx, user: User, changes: Partial<User>): Promise<void> {
    await this.users.update(tx, user.id, { ...changes, version: user.version + 1 });
  }

  lockForUpdate(tx: Tx, id: string): Promise<User | null> {
    return this.users.lockById(tx, id);
  }

  /** Runs work in a transaction, mapping a duplicate key raised at commit to 409. */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async toResponse(user: User): Promise<UserResponse> {
    return toUserResponse(user, await this.users.roleNamesOf(user.id));
  }

  /** Server role and named roles turned into what the guard needs. */
  async principalFor(
    user: User,
    credential: { kind: CredentialKind; id: string; via: 'header' | 'cookie' },
    narrowing: {
      scopes?: string[] | null;
      projectPermissions?: Record<string, string[]> | null;
    } = {},
  ): Promise<Principal> {
    const roles = await this.users.rolesOf(user.id);
    const held = this.catalogue.serverPermissions(
      user.role,
      roles.flatMap((r) => r.permissions),
    );
    const scopes = narrowing.scopes ?? null;
    const permissions = narrowServerPermissions(held, scopes);
    return {
      userId: user.id,
      email: user.email,
      role: user.role,
      roles: roles.map((r) => r.name),
      permissions,
      credential,
      scopes,
      projectPermissions: narrowing.projectPermissions ?? null,
      user,
    };
  }
}
