import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { asRow } from '#src/database/columns.js';
import { newId } from '#src/database/ids.js';
import type { ServerRole } from '#src/kernel/principal.js';
import type { ProjectRole } from '#src/tenancy/access/project-roles.js';
import { Group, GroupMember } from '#src/tenancy/entities/group.entity.js';
import { newProjectMember, ProjectMember } from '#src/tenancy/entities/project-member.entity.js';
import { Project } from '#src/tenancy/entities/project.entity.js';
import {
  Workspace,
  WorkspaceMember,
  type WorkspaceRole,
} from '#src/tenancy/entities/workspace.entity.js';
import { User } from '#src/users/user.entity.js';

/**
 * Rows written straight through the DataSource, for tests below HTTP (the medium tier). Every name
 * is unique, so tests share one database without truncating.
 */
function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

export async function insertUser(
  db: DataSource,
  opts: { role?: ServerRole; name?: string } = {},
): Promise<User> {
  const name = opts.name ?? unique(opts.role ?? 'user');
  const u = new User();
  u.id = newId();
  u.email = `${name}@example.test`;
  u.emailNormalized = u.email.toLowerCase();
  u.username = null;
  u.usernameNormalized = null;
  u.fullName = name;
  u.fullNameNormalized = name.toLowerCase();
  u.passwordHash = null;
  u.role = opts.role ?? 'user';
  u.status = 'active';
  u.emailVerified = true;
  u.data = {};
  u.failedLogins = 0;
  u.lockCount = 0;
  u.lockedUntil = null;
  u.createdAt = new Date();
  u.updatedAt = u.createdAt;
  u.version = 1;
  await db.getRepository(User).insert(asRow(u));
  return u;
}

/** A workspace with its members: `{ [userId]: role }`. */
export async function insertWorkspace(
  db: DataSource,
  members: Record<string, WorkspaceRole> = {},
): Promise<Workspace> {
  const w = new Workspace();
  w.id = newId();
  w.domain = unique('ws');
  w.title = w.domain;
  w.createdBy = null;
  w.mfaRequired = false;
  w.createdAt = new Date();
  w.updatedAt = w.createdAt;
  w.version = 1;
  await db.getRepository(Workspace).insert(asRow(w));
  for (const [userId, role] of Object.entries(members))
    await insertWorkspaceMember(db, w.id, userId, role);
  return w;
}

export async function insertWorkspaceMember(
  db: DataSource,
  workspaceId: string,
  userId: string,
  role: WorkspaceRole,
): Promise<void> {
  await db
    .getRepository(WorkspaceMember)
    .insert({ workspaceId, userId, role, createdAt: new Date() });
}

/** A group in a workspace with `members` (user ids) and an optional owner. */
export async function insertGroup(
  db: DataSource,
  workspaceId: string,
  opts: { members?: string[]; ownerId?: string | null; name?: string } = {},
): Promise<Group> {
  const g = new Group();
  g.id = newId();
  g.workspaceId = workspaceId;
  g.projectId = null;
  g.scopeKey = workspaceId;
  g.name = opts.name ?? unique('Group');
  g.nameNormalized = g.name.toLowerCase();
  g.ownerId = opts.ownerId ?? null;
  g.settings = {};
  g.createdAt = new Date();
  g.updatedAt = g.createdAt;
  g.version = 1;
  await db.getRepository(Group).insert(asRow(g));
  if (opts.members?.length)
    await db
      .getRepository(GroupMember)
      .insert(opts.members.map((userId) => ({ groupId: g.id, userId, createdAt: new Date() })));
  return g;
}

/** A project in a workspace; `members` maps user or group ids to roles. */
export async function insertProject(
  db: DataSource,
  workspaceId: string,
  members: { users?: Record<string, ProjectRole>; groups?: Record<string, ProjectRole> } = {},
): Promise<Project> {
  const p = new Project();
  p.id = newId();
  p.workspaceId = workspaceId;
  p.name = unique('Project');
  p.nameNormalized = p.name.toLowerCase();
  p.createdBy = null;
  p.createdAt = new Date();
  p.updatedAt = p.createdAt;
  p.version = 1;
  await db.getRepository(Project).insert(asRow(p));
  for (const [userId, role] of Object.entries(members.users ?? {}))
    await insertProjectMember(db, p.id, 'user', userId, role);
  for (const [groupId, role] of Object.entries(members.groups ?? {}))
    await insertProjectMember(db, p.id, 'group', groupId, role);
  return p;
}

export async function insertProjectMember(
  db: DataSource,
  projectId: string,
  memberType: 'user' | 'group',
  memberId: string,
  role: ProjectRole,
): Promise<void> {
  const m = newProjectMember(projectId, memberType, memberId, role);
  await db.getRepository(ProjectMember).insert(asRow(m));
}
