import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, UpdatedAtColumn } from '#src/database/columns.js';
import { Group } from '#src/tenancy/entities/group.entity.js';
import { User } from '#src/users/user.entity.js';
import { Project } from '#src/tenancy/entities/project.entity.js';
import type { ProjectRole } from '#src/tenancy/access/project-roles.js';

export type MemberType = 'user' | 'group';

/** A user or a whole group holding a role in a project: exactly one of userId / groupId is set. */
@Entity('project_members')
@Index('IDX_project_member_user', ['userId', 'projectId'])
@Index('IDX_project_member_group', ['groupId', 'projectId'])
export class ProjectMember {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'project_id' })
  projectId!: string;

  // 64: a group id may be one its creator chose.
  @PrimaryColumn({ type: 'varchar', length: 64, name: 'member_id' })
  memberId!: string;

  @ManyToOne(() => Project, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'project_id', foreignKeyConstraintName: 'FK_project_member_project' })
  project?: Project;

  @Column({ type: 'varchar', length: 8, name: 'member_type' })
  memberType!: MemberType;

  @Column({ type: 'varchar', length: 36, name: 'user_id', nullable: true })
  userId!: string | null;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'FK_project_member_user' })
  user?: User;

  @Column({ type: 'varchar', length: 64, name: 'group_id', nullable: true })
  groupId!: string | null;

  @ManyToOne(() => Group, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'group_id', foreignKeyConstraintName: 'FK_project_member_group' })
  group?: Group;

  @Column({ type: 'varchar', length: 16 })
  role!: ProjectRole;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;
}

/** A new member row: the user or the group `memberType` names, with `role`, created `at`. */
export function newProjectMember(
  projectId: string,
  memberType: MemberType,
  memberId: string,
  role: ProjectRole,
  at = new Date(),
): ProjectMember {
  const m = new ProjectMember();
  m.projectId = projectId;
  m.memberId = memberId;
  m.memberType = memberType;
  m.userId = memberType === 'user' ? memberId : null;
  m.groupId = memberType === 'group' ? memberId : null;
  m.role = role;
  m.createdAt = at;
  m.updatedAt = at;
  return m;
}
