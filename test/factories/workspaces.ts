import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ServerRole } from '#src/kernel/principal.js';
import type { TestApp } from '../support/app.js';
import { makeUser, type MadeUser } from './users.js';

export type Auth = Record<string, string>;

export function tag(prefix: string): string {
  return `${prefix} ${randomBytes(4).toString('hex')}`;
}

/** POST through the API and insist on the expected status, returning the body. */
export async function ok<T = Record<string, unknown>>(
  res: Promise<{ status: number; body: unknown }>,
  status: number,
  what: string,
): Promise<T> {
  const r = await res;
  assert.equal(r.status, status, `${what}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
}

export async function createWorkspace(t: TestApp, auth: Auth, title = tag('Workspace')) {
  return ok<{ id: string; domain: string; title: string }>(
    t.http.post('/api/v1/workspaces').set(auth).send({ title }),
    201,
    'create workspace',
  );
}

const serverAdmins = new WeakMap<TestApp, Promise<MadeUser>>();

/**
 * Fixture: gives the user a role in the workspace, through PUT /workspaces/:domain/users/:userId
 * as `auth`. A workspace admin's PUT for a person who is not a member only invites them (they
 * must consent); the fixture then puts them in as a server admin does, which also withdraws that
 * invitation. Tests of the consent rule itself call the route directly.
 */
export async function setWorkspaceRole(
  t: TestApp,
  auth: Auth,
  domain: string,
  userId: string,
  role: 'admin' | 'user' | 'reader',
) {
  const put = (as: Auth) =>
    ok<{ status: string }>(
      t.http.put(`/api/v1/workspaces/${domain}/users/${userId}`).set(as).send({ role }),
      200,
      'set workspace role',
    );
  const first = await put(auth);
  if (first.status !== 'invited') return first;
  let admin = serverAdmins.get(t);
  if (!admin) {
    admin = makeUser(t, { role: 'admin' });
    serverAdmins.set(t, admin);
  }
  return put((await admin).auth);
}

export async function createProject(
  t: TestApp,
  auth: Auth,
  workspace: string,
  name = tag('Project'),
) {
  return ok<{ id: string; name: string; permissions: string[] }>(
    t.http.post('/api/v1/projects').set(auth).send({ name, workspace }),
    201,
    'create project',
  );
}

export async function addProjectMember(
  t: TestApp,
  auth: Auth,
  projectId: string,
  body: { role: string; userId?: string; groupId?: string },
) {
  return ok(
    t.http.post(`/api/v1/projects/${projectId}/members`).set(auth).send(body),
    201,
    'add project member',
  );
}

export async function createGroup(
  t: TestApp,
  auth: Auth,
  workspace: string,
  members: string[],
  extra: { name?: string; projectId?: string; settings?: Record<string, unknown> } = {},
) {
  return ok<{ id: string; name: string; members: { id: string }[] }>(
    t.http
      .post('/api/v1/groups')
      .set(auth)
      .send({
        name: extra.name ?? tag('Group'),
        workspace,
        members: members.map((id) => ({ id })),
        ...(extra.projectId ? { projectId: extra.projectId } : {}),
        ...(extra.settings ? { settings: extra.settings } : {}),
      }),
    201,
    'create group',
  );
}

export async function users(
  t: TestApp,
  spec: Record<string, ServerRole>,
): Promise<Record<string, MadeUser>> {
  const out: Record<string, MadeUser> = {};
  for (const [name, role] of Object.entries(spec)) {
    out[name] = await makeUser(t, { role, fullName: name });
  }
  return out;
}
