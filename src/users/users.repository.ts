import { Injectable } from '@nestjs/common';
import { Brackets, DataSource, In } from 'typeorm';
import type { Tx } from '#src/database/database.service.js';
import { asRow } from '#src/database/columns.js';
import { Role, UserRole } from '#src/users/role.entity.js';
import { User } from '#src/users/user.entity.js';
import { forUpdate } from '#src/database/locks.js';

export interface UserSearch {
  query?: string;
  limit: number;
  after: [string, string] | null;
  /** Restrict to these user ids (workspace admins see their workspaces' users). */
  ids?: string[];
}

@Injectable()
export class UsersRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(tx?: Tx) {
    return (tx ?? this.dataSource.manager).getRepository(User);
  }

  findById(id: string, tx?: Tx): Promise<User | null> {
    return this.repo(tx).findOne({ where: { id } });
  }

  /** Row lock on MySQL; SQLite transactions are already serialised. */
  lockById(tx: Tx, id: string): Promise<User | null> {
    const qb = tx.getRepository(User).createQueryBuilder('u').where('u.id = :id', { id });
    return forUpdate(tx, qb).getOne();
  }

  findByIds(ids: string[]): Promise<User[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.repo().find({ where: { id: In(ids) } });
  }

  findByEmail(email: string, tx?: Tx): Promise<User | null> {
    return this.repo(tx).findOne({ where: { emailNormalized: email.toLowerCase() } });
  }

  findByUsername(username: string, tx?: Tx): Promise<User | null> {
    return this.repo(tx).findOne({ where: { usernameNormalized: username.trim().toLowerCase() } });
  }

  findManyByEmails(emails: string[], tx?: Tx): Promise<User[]> {
    if (emails.length === 0) return Promise.resolve([]);
    return this.repo(tx).find({
      where: { emailNormalized: In(emails.map((e) => e.toLowerCase())) },
    });
  }

  /** The sign-in lookup: by email or username, with the password hash (opt-in column). */
  findForSignIn(login: string, tx?: Tx): Promise<User | null> {
    const key = login.toLowerCase();
    return this.repo(tx)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.emailNormalized = :key', { key })
      .orWhere('u.usernameNormalized = :key', { key })
      .getOne();
  }

  findByIdWithPasswordHash(id: string, tx?: Tx): Promise<User | null> {
    return this.repo(tx)
      .createQueryBuilder('u')
      .addSelect('u.passwordHash')
      .where('u.id = :id', { id })
      .getOne();
  }

  async insert(tx: Tx, user: User): Promise<void> {
    // updateEntity(false): on MySQL TypeORM would write raw column values (tinyint 0 for a
    // boolean) back into the entity the caller keeps using.
    await tx
      .getRepository(User)
      .createQueryBuilder()
      .insert()
      .values(asRow(user))
      .updateEntity(false)
      .execute();
  }

  /** Saves changed fields with an optimistic version check; false when someone else changed the row. */
  async updateVersioned(tx: Tx, user: User, changes: Partial<User>): Promise<boolean> {
    const res = await tx
      .getRepository(User)
      .createQueryBuilder()
      .update()
      .set(asRow({ ...changes, version: user.version + 1, updatedAt: new Date() }))
      .where('id = :id AND version = :version', { id: user.id, version: user.version })
      .execute();
    return (res.affected ?? 0) === 1;
  }

  async update(tx: Tx, id: string, changes: Partial<User>): Promise<void> {
    await tx.getRepository(User).update({ id }, asRow({ ...changes, updatedAt: new Date() }));
  }

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.getRepository(User).delete({ id });
  }

  count(tx?: Tx): Promise<number> {
    return this.repo(tx).count();
  }

  countActiveAdmins(tx: Tx): Promise<number> {
    return tx.getRepository(User).count({ where: { role: 'admin', status: 'active' } });
  }

  /** Locks the admin rows so two concurrent demotions cannot both pass the last-admin check. */
  async lockActiveAdmins(tx: Tx): Promise<string[]> {
    const qb = tx
      .getRepository(User)
      .createQueryBuilder('u')
      .select('u.id', 'id')
      .where("u.role = 'admin' AND u.status = 'active'");
    const rows = await forUpdate(tx, qb).getRawMany<{ id: string }>();
    return rows.map((r) => r.id);
  }

  /**
   * Prefix search on email, username or full name; keyset-paginated by (email, id). Service
   * accounts have no email: they come first, by id (their cursor's email is ''), then everyone
   * else by email.
   */
  async search(s: UserSearch): Promise<User[]> {
    const filtered = () => {
      const qb = this.repo().createQueryBuilder('u');
      if (s.query) {
        // An explicit ESCAPE: SQLite's LIKE has none by default (MySQL's is a backslash), so a
        // backslash-escaped `_` or `%` was not literal on SQLite.
        const q = `${s.query.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;
        qb.andWhere(
          new Brackets((w) => {
            w.where("u.emailNormalized LIKE :q ESCAPE '!'", { q })
              .orWhere("u.usernameNormalized LIKE :q ESCAPE '!'", { q })
              .orWhere("u.fullNameNormalized LIKE :q ESCAPE '!'", { q });
          }),
        );
      }
      if (s.ids) qb.andWhere(s.ids.length ? 'u.id IN (:...ids)' : '1 = 0', { ids: s.ids });
      return qb;
    };
    const out: User[] = [];
    const afterEmail = s.after?.[0];
    if (!s.after || afterEmail === '') {
      const qb = filtered().andWhere('u.emailNormalized IS NULL');
      if (s.after) qb.andWhere('u.id > :id', { id: s.after[1] });
      out.push(...(await qb.orderBy('u.id', 'ASC').limit(s.limit).getMany()));
      if (out.length >= s.limit) return out;
    }
    // email_normalized is unique, so it alone orders the keyset (the cursor's id is not needed to
    // break ties). Ordering by (email, id) made MySQL sort every row after the cursor (filesort:
    // ~50 ms a page at 100k users) instead of reading the next rows of UQ_user_email in order.
    const qb = filtered().andWhere('u.emailNormalized IS NOT NULL');
    if (afterEmail) qb.andWhere('u.emailNormalized > :e', { e: afterEmail });
    out.push(
      ...(await qb
        .orderBy('u.emailNormalized', 'ASC')
        .limit(s.limit - out.length)
        .getMany()),
    );
    return out;
  }

  // Named roles

  roleNamesOf(userId: string): Promise<string[]> {
    return this.dataSource
      .getRepository(UserRole)
      .createQueryBuilder('ur')
      .innerJoin(Role, 'r', 'r.id = ur.roleId')
      .select('r.name', 'name')
      .where('ur.userId = :userId', { userId })
      .orderBy('r.name')
      .getRawMany<{ name: string }>()
      .then((rows) => rows.map((r) => r.name));
  }

  /** Names and permissions of a user's named roles, in one query. */
  rolesOf(userId: string): Promise<Role[]> {
    return this.dataSource
      .getRepository(Role)
      .createQueryBuilder('r')
      .innerJoin(UserRole, 'ur', 'ur.roleId = r.id')
      .where('ur.userId = :userId', { userId })
      .orderBy('r.name')
      .getMany();
  }

  /** Role names of many users in one query (list pages). */
  async roleNamesOfMany(userIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>(userIds.map((id) => [id, []]));
    if (userIds.length === 0) return out;
    const rows = await this.dataSource
      .getRepository(UserRole)
      .createQueryBuilder('ur')
      .innerJoin(Role, 'r', 'r.id = ur.roleId')
      .select('ur.userId', 'userId')
      .addSelect('r.name', 'name')
      .where('ur.userId IN (:...userIds)', { userIds })
      .orderBy('r.name')
      .getRawMany<{ userId: string; name: string }>();
    for (const r of rows) out.get(r.userId)?.push(r.name);
    return out;
  }

  /** Named roles of a user, read inside the transaction that changes them. */
  rolesOfInTx(tx: Tx, userId: string): Promise<Role[]> {
    return tx
      .getRepository(Role)
      .createQueryBuilder('r')
      .innerJoin(UserRole, 'ur', 'ur.roleId = r.id')
      .where('ur.userId = :userId', { userId })
      .orderBy('r.name')
      .getMany();
  }

  async setRoles(tx: Tx, userId: string, roleIds: string[]): Promise<void> {
    const repo = tx.getRepository(UserRole);
    await repo.delete({ userId });
    if (roleIds.length) await repo.insert(roleIds.map((roleId) => ({ userId, roleId })));
  }

  findRolesByNames(names: string[], tx?: Tx): Promise<Role[]> {
    if (names.length === 0) return Promise.resolve([]);
    return (tx ?? this.dataSource.manager).getRepository(Role).find({ where: { name: In(names) } });
  }
}
