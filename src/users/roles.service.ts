import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import { decodeCursor, toPage, type Page } from '#src/common/http/pagination.js';
import { Database, isUniqueViolation, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { AuditService } from '#src/audit/audit.service.js';
import { SERVER_ROLES, type Principal } from '#src/kernel/principal.js';
import type { CreateRoleDto, UpdateRoleDto } from '#src/users/dto/roles.dto.js';
import { assertHoldsAll } from '#src/kernel/anti-escalation.js';
import { PermissionCatalogue } from '#src/users/permission-catalogue.js';
import { Role } from '#src/users/role.entity.js';
import { RolesRepository } from '#src/users/roles.repository.js';

export interface RoleResponse {
  id: string;
  name: string;
  description: string | null;
  permissions: string[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

export function toRoleResponse(r: Role): RoleResponse {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    permissions: r.permissions,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
    version: r.version,
  };
}

const UPDATABLE = ['name', 'description', 'permissions'] as const;

/** Named server-level roles bundling permissions. Every change is audited in its transaction. */
@Injectable()
export class RolesService {
  constructor(
    private readonly db: Database,
    private readonly repo: RolesRepository,
    private readonly audit: AuditService,
    private readonly catalogue: PermissionCatalogue,
  ) {}

  async list(limit: number, cursor?: string): Promise<Page<RoleResponse>> {
    const after = decodeCursor(cursor, 1);
    const rows = await this.repo.list(after ? String(after[0]) : null, limit + 1);
    return toPage(rows, limit, (r) => [r.name], toRoleResponse);
  }

  async create(p: Principal, dto: CreateRoleDto): Promise<RoleResponse> {
    checkName(dto.name);
    const permissions = this.checkPermissions(dto.permissions);
    assertHoldsAll(p, permissions, 'A role with these permissions');
    const role = new Role();
    role.id = newId();
    role.name = dto.name;
    role.description = dto.description ?? null;
    role.permissions = permissions;
    role.createdAt = new Date();
    role.updatedAt = role.createdAt;
    role.version = 1;
    await this.db.transaction(async (tx) => {
      await this.insertOrConflict(tx, role);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'role.create',
        targetType: 'role',
        targetId: role.id,
        changes: { name: role.name, description: role.description, permissions },
      });
    });
    return toRoleResponse(role);
  }

  async update(p: Principal, name: string, dto: UpdateRoleDto): Promise<RoleResponse> {
    if (UPDATABLE.every((f) => dto[f] === undefined))
      throw AppException.invalid('body', `must change at least one of ${UPDATABLE.join(', ')}`);
    if (dto.name !== undefined) checkName(dto.name);
    const permissions =
      dto.permissions !== undefined ? this.checkPermissions(dto.permissions) : undefined;
    const role = await this.db.transaction(async (tx) => {
      const role = await this.repo.lockByName(tx, name);
      if (!role) throw AppException.notFound('Role');
      if (dto.version !== undefined && dto.version !== role.version) {
        throw AppException.conflict(
          `The role was changed meanwhile (now version ${role.version}); reload and retry.`,
          'version',
        );
      }
      // Managing a role means being able to grant what it holds, before and after.
      assertHoldsAll(p, [...role.permissions, ...(permissions ?? [])], 'Changing this role');
      const changes: Partial<Role> = {};
      const audit: Record<string, { from: unknown; to: unknown }> = {};
      if (dto.name !== undefined && dto.name !== role.name) {
        changes.name = dto.name;
        audit.name = { from: role.name, to: dto.name };
      }
      if (dto.description !== undefined && (dto.description ?? null) !== role.description) {
        changes.description = dto.description ?? null;
        audit.description = { from: role.description, to: dto.description ?? null };
      }
      if (permissions && permissions.join('\n') !== role.permissions.join('\n')) {
        changes.permissions = permissions;
        audit.permissions = { from: role.permissions, to: permissions };
      }
      if (Object.keys(audit).length === 0) return role;
      try {
        await this.repo.update(tx, role, changes);
      } catch (err) {
        if (isUniqueViolation(err))
          throw AppException.conflict(`A role named ${dto.name} already exists.`, 'name');
        throw err;
      }
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'role.update',
        targetType: 'role',
        targetId: role.id,
        changes: audit,
      });
      return (await this.repo.findByName(changes.name ?? role.name, tx)) ?? role;
    });
    return toRoleResponse(role);
  }

  /** Deletes the role; users holding it lose it at once (FK cascade on user_roles). */
  async delete(p: Principal, name: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const role = await this.repo.lockByName(tx, name);
      if (!role) throw AppException.notFound('Role');
      assertHoldsAll(p, role.permissions, 'Deleting this role');
      const holders = await this.repo.countHolders(tx, role.id);
      await this.repo.delete(tx, role.id);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'role.delete',
        targetType: 'role',
        targetId: role.id,
        changes: { name: role.name, permissions: role.permissions, holders },
      });
    });
  }

  private async insertOrConflict(tx: Tx, role: Role): Promise<void> {
    try {
      await this.repo.insert(tx, role);
    } catch (err) {
      if (isUniqueViolation(err))
        throw AppException.conflict(`A role named ${role.name} already exists.`, 'name');
      throw err;
    }
  }

  /** Unknown permission strings: 400 naming them. Returns them de-duplicated, in order. */
  private checkPermissions(permissions: string[]): string[] {
    const unique = [...new Set(permissions)];
    const unknown = unique.filter((x) => !this.catalogue.isKnown(x));
    if (unknown.length)
      throw AppException.invalid('permissions', `unknown permission(s): ${unknown.join(', ')}`);
    return unique;
  }
}

/** A named role may not pose as a server role. */
function checkName(name: string): void {
  if ((SERVER_ROLES as readonly string[]).includes(name))
    throw AppException.invalid('name', `${name} is a server role; choose another name`);
}
