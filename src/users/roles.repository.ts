import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import type { Tx } from '#src/database/database.service.js';
import { Role, UserRole } from '#src/users/role.entity.js';
import { forUpdate } from '#src/database/locks.js';

@Injectable()
export class RolesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Keyset-paginated by name. */
  list(afterName: string | null, limit: number): Promise<Role[]> {
    const qb = this.dataSource.getRepository(Role).createQueryBuilder('r');
    if (afterName !== null) qb.where('r.name > :afterName', { afterName });
    return qb.orderBy('r.name', 'ASC').limit(limit).getMany();
  }

  findByName(name: string, tx?: Tx): Promise<Role | null> {
    return (tx ?? this.dataSource.manager).getRepository(Role).findOne({ where: { name } });
  }

  /** Row lock on MySQL; SQLite transactions are already serialised. */
  lockByName(tx: Tx, name: string): Promise<Role | null> {
    const qb = tx.getRepository(Role).createQueryBuilder('r').where('r.name = :name', { name });
    return forUpdate(tx, qb).getOne();
  }

  async insert(tx: Tx, role: Role): Promise<void> {
    await tx.getRepository(Role).insert(asRow(role));
  }

  async update(tx: Tx, role: Role, changes: Partial<Role>): Promise<void> {
    await tx
      .getRepository(Role)
      .update(
        { id: role.id },
        asRow<Role>({ ...role, ...changes, version: role.version + 1, updatedAt: new Date() }),
      );
  }

  /** Deletes the role; user_roles rows go with it (FK cascade). */
  async delete(tx: Tx, id: string): Promise<void> {
    await tx.getRepository(Role).delete({ id });
  }

  countHolders(tx: Tx, roleId: string): Promise<number> {
    return tx.getRepository(UserRole).count({ where: { roleId } });
  }
}
