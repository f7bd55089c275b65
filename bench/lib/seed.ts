import { createConnection } from 'mysql2/promise';
import { newId } from '../../src/database/ids.js';
import { call, expectOk, field, Skip } from './http.js';

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

async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

/**
 * Users straight into the migrated schema with multi-row INSERTs (fast: ~100k rows in seconds);
 * workspace, projects, groups and memberships through the API (their tables belong to another
 * branch; bulk SQL for them can replace this once their schema is merged).
 */
export async function seedScale(
  dbUrl: string,
  baseUrl: string,
  adminSession: string,
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
  } finally {
    await conn.end();
  }
  const usersS = (Date.now() - t0) / 1000;
  const searchPrefix = 'user-00001';
  const base: ScaleSeed = {
    summary: `${sizes.users} users by multi-row INSERT in ${usersS.toFixed(1)} s`,
    searchPrefix,
    permission: null,
  };

  // Workspaces, projects, groups, memberships: through the API, skipped when not merged yet.
  try {
    const t1 = Date.now();
    const ws = await call('POST', `${baseUrl}/api/v1/workspaces`, {
      token: adminSession,
      body: { title: 'Scale bench' },
    });
    expectOk(ws, 'POST /workspaces');
    const domain = String(field(ws.body, 'domain'));
    const perGroup = 20;
    const members = ids.slice(0, Math.min(ids.length, sizes.groups * perGroup));
    const emailBatches: string[][] = [];
    for (let i = 0; i < members.length; i += 100)
      emailBatches.push(members.slice(i, i + 100).map((_, k) => emailOf(i + k)));
    await pool(emailBatches, 4, async (emails) => {
      const r = await call('POST', `${baseUrl}/api/v1/workspaces/${domain}/users`, {
        token: adminSession,
        body: { emails, role: 'user' },
      });
      expectOk(r, 'POST /workspaces/:domain/users');
    });
    const projects: string[] = [];
    await pool(
      Array.from({ length: sizes.projects }, (_, i) => i),
      4,
      async (i) => {
        const r = await call('POST', `${baseUrl}/api/v1/projects`, {
          token: adminSession,
          body: { name: `scale project ${i}`, workspace: domain },
        });
        expectOk(r, 'POST /projects');
        projects.push(String(field(r.body, 'id')));
      },
    );
    await pool(
      Array.from({ length: sizes.groups }, (_, i) => i),
      4,
      async (g) => {
        const groupMembers = members.slice(g * perGroup, (g + 1) * perGroup).map((id) => ({ id }));
        const r = await call('POST', `${baseUrl}/api/v1/groups`, {
          token: adminSession,
          body: { name: `scale group ${g}`, workspace: domain, members: groupMembers },
        });
        expectOk(r, 'POST /groups');
        const groupId = String(field(r.body, 'id'));
        // Each group joins 3 projects (spread), so a user reaches several projects through groups.
        for (let k = 0; k < Math.min(3, projects.length); k++) {
          const pid = projects[(g + k * 7) % projects.length] ?? '';
          const m = await call('POST', `${baseUrl}/api/v1/projects/${pid}/members`, {
            token: adminSession,
            body: { role: 'member', groupId },
          });
          expectOk(m, 'POST /projects/:id/members');
        }
      },
    );
    const userId = members[0] ?? '';
    const pid = projects[0] ?? '';
    base.summary += `; 1 workspace, ${projects.length} projects, ${sizes.groups} groups of ${perGroup} members (each in 3 projects) through the API in ${((Date.now() - t1) / 1000).toFixed(1)} s`;
    base.permission = {
      path: `/api/v1/projects/${pid}/permissions?userId=${userId}`,
      label: 'user in a member group',
    };
  } catch (err) {
    if (!(err instanceof Skip)) throw err;
    base.skipReason = err.message;
  }
  return base;
}
