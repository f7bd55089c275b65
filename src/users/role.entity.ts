import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import {
  CreatedAtColumn,
  JsonColumn,
  RowVersionColumn,
  UpdatedAtColumn,
} from '#src/database/columns.js';
import { User } from '#src/users/user.entity.js';

/** A named server-level role bundling permissions, given to users besides their server role. */
@Entity('roles')
@Index('UQ_role_name', ['name'], { unique: true })
export class Role {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64 })
  name!: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  description!: string | null;

  @JsonColumn()
  permissions!: string[];

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;

  @RowVersionColumn()
  version!: number;
}

@Entity('user_roles')
@Index('IDX_user_role_role', ['roleId'])
export class UserRole {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'user_id' })
  userId!: string;

  @PrimaryColumn({ type: 'varchar', length: 36, name: 'role_id' })
  roleId!: string;

  @ManyToOne(() => User, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_user_role_user' })
  user?: User;

  @ManyToOne(() => Role, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'role_id', foreignKeyConstraintName: 'FK_user_role_role' })
  role?: Role;
}
