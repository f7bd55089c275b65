import { createConnection, type Connection } from 'mysql2/promise';
import { newId } from '#src/database/ids.js';

/** Drops and re-creates a benchmark database; refuses names without "bench" in them. */
export async function resetMysqlDatabase(url: string): Promise<void> {
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!/bench/i.test(name) || !/^[\w-]+$/.test(name))
    throw new Error(`refusing to reset database "${name}": its name must contain "bench"`);
  const conn = await createConnection({
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  });
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await conn.query(
      `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    );
  } finally {
    await conn.end();
  }
}

export interface ScaleSeed {
  summary: string;
  searchPrefix: string;
  permission: { path: string; label: string } | null;
  skipReason?: string;
}

const BATCH = 2000;

/** `user-0000042@bench.example`: fixed width, so a prefix selects a known slice. */
function emailOf(i: number): string {
  return `user-${String(i).padStart(7, '0')}@bench.example`;
}

type Row = unknown[];

/** Multi-row INSERTs of `rows` into `table`, BATCH rows at a time. */
async function insertAll(conn: Connection, table: string, columns: string[], rows: Row[]) {
  for (let i = 0; i < rows.length; i += BATCH) {
    await conn.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ?`, [
      rows.slice(i, i + BATCH),
    ]);
  }
}

/**
 * Everything straight into the migrated schema with multi-row INSERTs (fast: ~100k rows in
 * seconds): users; W workspaces (W = min(10, groups, projects)), user i in workspace i mod W;
 * projects and groups spread over the workspaces; each group has 20 members of its workspace (so
 * with the sizes every user is in ~2 groups), each group is a member of 3 projects of its
 * workspace, each project has 10 direct members. The permission check is measured for a user who
 * reaches the project only through a group.
 */
export async function seedScale(
  dbUrl: string,
  sizes: { users: number; groups: number; projects: number },
): Promise<ScaleSeed> {
  const u = new URL(dbUrl);
  const conn = await createConnection({
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
  });
  const t0 = Date.now();
  const ids: string[] = [];
  const searchPrefix = 'user-00001';
  try {
    const now = new Date();
    for (let start = 0; start < sizes.users; start += BATCH) {
      const rows: unknown[][] = [];
      for (let i = start; i < Math.min(start + BATCH, sizes.users); i++) {
        const id = newId();
        ids.push(id);
        const email = emailOf(i);
        const name = `Bench User ${i}`;
        rows.push([
          id,
          email,
          email,
          null,
          null,
          name,
          name.toLowerCase(),
          null,
          'user',
          'active',
          1,
          '{}',
          0,
          0,
          null,
          now,
          now,
          1,
        ]);
      }
      await conn.query(
        'INSERT INTO users (id, email, email_normalized, username, username_normalized, full_name, full_name_normalized, password_hash, role, status, email_verified, data, failed_logins, lock_count, locked_until, created_at, updated_at, version) VALUES ?',
        [rows],
      );
    }
    const usersS = (Date.now() - t0) / 1000;
    const base: ScaleSeed = {
      summary: `${sizes.users} users by multi-row INSERT in ${usersS.toFixed(1)} s`,
      searchPrefix,
      permission: null,
    };
    const W = Math.min(10, sizes.groups, sizes.projects);
    const perGroup = 20;
    const nLocal = Math.floor(sizes.users / W);
    if (W < 1 || nLocal < perGroup + 11) {
      base.skipReason = 'too few users, groups or projects for the membership layout';
      return base;
    }
    const t1 = Date.now();
    /** The user with local index `k` in workspace `w`. */
    const userOf = (w: number, k: number): string => ids[w + W * (k % nLocal)] ?? '';
    const workspaces = Array.from({ length: W }, () => newId());
    await insertAll(
      conn,
      'workspaces',
      ['id', 'domain', 'title', 'created_by', 'created_at', 'updated_at', 'version'],
      workspaces.map((id, w) => [id, `scale-ws-${w}`, `Scale workspace ${w}`, null, now, now, 1]),
    );
    await insertAll(
      conn,
      'workspace_members',
      ['workspace_id', 'user_id', 'role', 'created_at'],
      ids.slice(0, W * nLocal).map((id, i) => [workspaces[i % W], id, 'user', now]),
    );
    const projects = Array.from({ length: sizes.projects }, () => newId());
    await insertAll(
      conn,
      'projects',
      [
        'id',
        'workspace_id',
        'name',
        'name_normalized',
        'created_by',
        'created_at',
        'updated_at',
        'version',
      ],
      projects.map((id, p) => [
        id,
        workspaces[p % W],
        `Scale project ${p}`,
        `scale project ${p}`,
        null,
        now,
        now,
        1,
      ]),
    );
    const groups = Array.from({ length: sizes.groups }, () => newId());
    await insertAll(
      conn,
      'user_groups',
      [
        'id',
        'workspace_id',
        'project_id',
        'scope_key',
        'name',
        'name_normalized',
        'owner_id',
        'settings',
        'created_at',
        'updated_at',
        'version',
      ],
      groups.map((id, g) => {
        const ws = workspaces[g % W];
        return [id, ws, null, ws, `Scale group ${g}`, `scale group ${g}`, null, '{}', now, now, 1];
      }),
    );
    const groupMembers: Row[] = [];
    groups.forEach((gid, g) => {
      const w = g % W;
      const first = Math.floor(g / W) * perGroup;
      for (let k = 0; k < perGroup; k++) groupMembers.push([gid, userOf(w, first + k), now]);
    });
    await insertAll(conn, 'group_members', ['group_id', 'user_id', 'created_at'], groupMembers);
    // Projects of workspace w are p = w, w + W, w + 2W, ...: local index j is project w + W*j.
    const nProjLocal = Math.floor(sizes.projects / W);
    const projectOf = (w: number, j: number): number => w + W * (j % nProjLocal);
    const memberRows: Row[] = [];
    const groupProjects = new Map<number, number[]>();
    groups.forEach((gid, g) => {
      const w = g % W;
      const base = Math.floor(g / W);
      const ps = [...new Set([0, 1, 2].map((k) => projectOf(w, base + k * 7)))];
      groupProjects.set(g, ps);
      for (const p of ps)
        memberRows.push([projects[p], gid, 'group', null, gid, 'member', now, now]);
    });
    // Ten direct members per project, never the probe user (local index 0 of workspace 0).
    projects.forEach((pid, p) => {
      const w = p % W;
      const first = 1 + Math.floor(p / W) * 10;
      const seen = new Set<string>();
      for (let k = 0; k < 10; k++) {
        const local = 1 + ((first + k - 1) % (nLocal - 1));
        const uid = userOf(w, local);
        if (seen.has(uid)) continue;
        seen.add(uid);
        memberRows.push([pid, uid, 'user', uid, null, 'member', now, now]);
      }
    });
    await insertAll(
      conn,
      'project_members',
      [
        'project_id',
        'member_id',
        'member_type',
        'user_id',
        'group_id',
        'role',
        'created_at',
        'updated_at',
      ],
      memberRows,
    );
    // The probe: user local 0 of workspace 0 is in group 0 (and, when the slices wrap, another
    // group) and in no project directly: it reaches group 0's projects only through groups.
    const probeUser = userOf(0, 0);
    const probeProject = projects[groupProjects.get(0)?.[0] ?? 0] ?? '';
    base.summary += `; ${W} workspaces (${W * nLocal} workspace members), ${projects.length} projects, ${groups.length} groups (${groupMembers.length} group memberships, ${perGroup} per group), ${memberRows.length} project memberships (each group in up to 3 projects, 10 direct members per project) by multi-row INSERT in ${((Date.now() - t1) / 1000).toFixed(1)} s`;
    base.permission = {
      path: `/api/v1/projects/${probeProject}/permissions?userId=${probeUser}`,
      label: 'a user who is a member only through a group',
    };
    return base;
  } finally {
    await conn.end();
  }
}
