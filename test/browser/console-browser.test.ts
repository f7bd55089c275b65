import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { IsNull } from 'typeorm';
import { Session } from '#src/auth/entities/session.entity.js';
import { ApiKey } from '#src/credentials/entities/api-key.entity.js';
import { Group, GroupMember } from '#src/tenancy/entities/group.entity.js';
import { ProjectMember } from '#src/tenancy/entities/project-member.entity.js';
import { Workspace, WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import { User } from '#src/users/user.entity.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { makeUser, uniqueEmail, type MadeUser } from '../factories/users.js';
import { createProject, createWorkspace, tag } from '../factories/workspaces.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(process.cwd(), 'docs', 'screenshots');
const UPDATE_SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1';
const skip =
  process.env.TEST_SKIP_BROWSER === '1'
    ? existsSync(CHROMIUM)
      ? 'TEST_SKIP_BROWSER=1'
      : `TEST_SKIP_BROWSER=1 and ${CHROMIUM} is missing (apt-get install -y chromium)`
    : false;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown }[];
}

/** axe-core in the page: no serious or critical violation. */
async function assertAccessible(page: Page, screen: string): Promise<void> {
  // Through the DevTools protocol, so the page's CSP (scripts from self only) does not apply.
  await page.evaluate(axe.source);
  const violations = await page.evaluate(async () => {
    const w = globalThis as unknown as {
      axe: { run: () => Promise<{ violations: AxeViolation[] }> };
    };
    const r = await w.axe.run();
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 3),
    }));
  });
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `axe on ${screen}: ${JSON.stringify(bad, null, 2)}`);
}

/** The screen at desktop (1280×800) and phone (390×844) widths, when UPDATE_SCREENSHOTS=1. */
async function screenshot(page: Page, name: string): Promise<void> {
  if (!UPDATE_SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [suffix, size] of [
    ['desktop', { width: 1280, height: 800 }],
    ['phone', { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(size);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${suffix}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

describe('console and account in Chromium', { skip }, () => {
  let t: TestApp;
  let base = '';
  let browser: Browser;
  let admin: MadeUser;
  let target: MadeUser;
  let plain: MadeUser;
  let workspace: { domain: string; title: string };
  let project: { id: string; name: string };

  before(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `${CHROMIUM} is missing: install it (apt-get install -y chromium), or set TEST_SKIP_BROWSER=1 to skip this test`,
      );
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    t = await createTestApp({ PUBLIC_URL: base });
    await t.app.listen(port, '127.0.0.1');
    admin = await makeUser(t, { role: 'admin', fullName: 'Ada Admin', email: uniqueEmail('ada') });
    // The user the admin finds by prefix; signed in once through the API (a session to sign out).
    target = await makeUser(t, { fullName: 'Zed Target', email: uniqueEmail('zed-target') });
    plain = await makeUser(t, { fullName: 'Paula Plain', email: uniqueEmail('paula') });
    workspace = await createWorkspace(t, admin.auth, tag('Acme'));
    project = await createProject(t, admin.auth, workspace.domain, tag('Billing'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  async function signedIn(
    who: MadeUser,
    returnTo: string,
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const failures: string[] = [];
    page.on('pageerror', (e) => failures.push(e.message));
    await page.goto(`${base}${returnTo}`);
    // Signed out: sent to the sign-in page, which comes back here.
    await page.waitForURL((u) => u.pathname === '/signin');
    assert.equal(new URL(page.url()).searchParams.get('returnTo'), returnTo);
    await page.fill('#username', who.email);
    await page.fill('#password', who.password);
    await page.click('button[type="submit"]');
    await page.waitForURL((u) => u.pathname !== '/signin');
    await page.getByTestId('signed-in-email').waitFor();
    assert.equal(await page.getByTestId('signed-in-email').textContent(), who.email);
    return { context, page };
  }

  /** Picks an option of a searchable select; retried when the list re-rendered under the click. */
  async function pick(page: Page, label: string, search: string, option: string | RegExp) {
    const input = page.getByRole('combobox', { name: label, exact: true });
    const wanted = typeof option === 'string' ? option : option.source.replace(/\\/g, '');
    for (let attempt = 0; attempt < 3; attempt++) {
      await input.click();
      await input.fill(search);
      await page.getByRole('option', { name: option }).first().click();
      if ((await input.inputValue()).includes(wanted)) return;
    }
    assert.fail(`could not pick ${String(option)} in ${label}`);
  }

  it('serves the app with a strict policy and sends signed-out visitors to sign in', async () => {
    const res = await fetch(`${base}/console/users`, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/signin?returnTo=%2Fconsole%2Fusers');
    const signedIn = await fetch(`${base}/account`, {
      headers: { Cookie: `gh_session=${plain.token}` },
    });
    assert.equal(signedIn.status, 200);
    const csp = signedIn.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.equal(signedIn.headers.get('cache-control'), 'no-store');
    const html = await signedIn.text();
    assert.doesNotMatch(html, /<script>(?!<\/script>)/, 'no inline script');
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, 'index.html names its script');
    const js = await fetch(`${base}${asset}`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const missing = await fetch(`${base}/console/assets/nope-123.js`);
    assert.equal(missing.status, 404);
  });

  it('lets an admin find and create users, build a group, give it a project role, explain a permission and sign a session out', async () => {
    const { context, page } = await signedIn(admin, '/console');
    try {
      // Users: find by prefix.
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      await page.getByRole('link', { name: target.email }).waitFor();
      await assertAccessible(page, 'users');
      await screenshot(page, 'console-users');
      await page.getByLabel('Search users').fill('zed-tar');
      await page.getByRole('link', { name: target.email }).waitFor();
      await page.getByRole('link', { name: admin.email }).waitFor({ state: 'detached' });
      assert.equal(await page.getByRole('link', { name: /@example\.test$/ }).count(), 1);

      // Create a user: a bad email first shows the field's message and writes nothing.
      const before = await t.db.getRepository(User).count();
      await page.getByRole('button', { name: 'Create user' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create user' });
      await dialog.getByLabel('Email', { exact: true }).fill('not-an-email');
      await dialog.getByLabel('Password', { exact: true }).fill('a long enough password 1');
      await dialog.getByRole('button', { name: 'Create user' }).click();
      const email = dialog.getByLabel('Email', { exact: true });
      await page.locator('input[name="email"][aria-invalid="true"]').waitFor();
      const describedBy = (await email.getAttribute('aria-describedby')) ?? '';
      const message = await page
        .locator(
          describedBy
            .split(' ')
            .map((id) => `[id="${id}"]`)
            .join(','),
        )
        .allTextContents();
      assert.match(message.join(' '), /email/i);
      await assertAccessible(page, 'create user (with an error)');
      await screenshot(page, 'console-create-user-error');
      assert.equal(await t.db.getRepository(User).count(), before, 'nothing written');

      const newEmail = uniqueEmail('new-hire');
      await email.fill(newEmail);
      await dialog.getByLabel('Full name').fill('Nia Newhire');
      await dialog.getByRole('button', { name: 'Create user' }).click();
      await page.getByRole('heading', { name: 'Nia Newhire', level: 1 }).waitFor();
      const created = await t.db
        .getRepository(User)
        .findOneByOrFail({ emailNormalized: newEmail.toLowerCase() });
      assert.equal(created.role, 'user');
      assert.equal(created.status, 'active');
      assert.equal(created.fullName, 'Nia Newhire');
      await assertAccessible(page, 'user detail');
      await screenshot(page, 'console-user-detail');

      // The new user joins the workspace.
      await page.goto(`${base}/console/workspaces/${workspace.domain}`);
      await page.getByRole('heading', { name: workspace.title, level: 1 }).waitFor();
      await page.getByLabel('Add people by email').fill(newEmail);
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await page.getByRole('link', { name: newEmail }).waitFor();
      const wsRow = await t.db
        .getRepository(Workspace)
        .findOneByOrFail({ domain: workspace.domain });
      const membership = await t.db
        .getRepository(WorkspaceMember)
        .findOneByOrFail({ workspaceId: wsRow.id, userId: created.id });
      assert.equal(membership.role, 'user');
      await assertAccessible(page, 'workspace detail');
      await screenshot(page, 'console-workspace-detail');

      // A group with the new user in it.
      await page.getByRole('link', { name: 'Groups' }).click();
      await page.getByRole('heading', { name: 'Groups', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Create group' }).click();
      const groupName = tag('Support');
      const gd = page.getByRole('dialog', { name: 'Create group' });
      await gd.getByLabel('Name', { exact: true }).fill(groupName);
      await pick(page, 'Workspace', workspace.title.slice(0, 4), workspace.title);
      await gd.getByRole('button', { name: 'Create group' }).click();
      await page.getByRole('heading', { name: groupName, level: 1 }).waitFor();
      const group = await t.db.getRepository(Group).findOneByOrFail({ name: groupName });
      await pick(page, 'Add a member', 'new-hire', new RegExp(newEmail));
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.getByRole('link', { name: newEmail }).waitFor();
      assert.ok(
        await t.db.getRepository(GroupMember).findOneBy({ groupId: group.id, userId: created.id }),
      );
      await assertAccessible(page, 'group detail');
      await screenshot(page, 'console-group-detail');

      // The group gets a project role.
      await page.goto(`${base}/console/projects/${project.id}`);
      await page.getByRole('heading', { name: project.name, level: 1 }).waitFor();
      await page.getByText('A group', { exact: true }).click();
      await pick(page, 'Group', groupName.slice(0, 5), groupName);
      await page.getByRole('button', { name: 'Add member' }).click();
      await page.getByRole('link', { name: groupName }).waitFor();
      const pm = await t.db
        .getRepository(ProjectMember)
        .findOneByOrFail({ projectId: project.id, groupId: group.id });
      assert.equal(pm.role, 'member');

      // The new user's effective permissions, each with where it comes from.
      await pick(page, 'Person', 'new-hire', new RegExp(newEmail));
      const effective = page.getByTestId('effective-permissions');
      await effective.getByText(`Group “${groupName}” as member`).first().waitFor();
      const rows = await effective.locator('tbody tr').allTextContents();
      assert.ok(rows.length > 0);
      assert.ok(rows.every((r) => r.includes(`Group “${groupName}” as member`)));
      const api = await t.http
        .get(`/api/v1/projects/${project.id}/permissions?userId=${created.id}`)
        .set(admin.auth);
      assert.equal(rows.length, (api.body as { permissions: string[] }).permissions.length);
      await assertAccessible(page, 'project detail');
      await screenshot(page, 'console-project-detail');

      // Sign out one of the target user's sessions.
      const [session] = await t.db
        .getRepository(Session)
        .findBy({ userId: target.user.id, revokedAt: IsNull() });
      assert.ok(session);
      await page.goto(`${base}/console/users/${target.user.id}`);
      await page.getByRole('heading', { name: 'Zed Target', level: 1 }).waitFor();
      await page.locator(`[data-session-id="${session.id}"]`).click();
      await page.locator(`[data-session-id="${session.id}"]`).waitFor({ state: 'detached' });
      const revoked = await t.db.getRepository(Session).findOneByOrFail({ id: session.id });
      assert.ok(revoked.revokedAt, 'the session is revoked');
      const res = await t.http.get('/api/v1/auth/whoami').set(target.auth);
      assert.equal(res.status, 401);

      // The other screens render for an admin, accessibly.
      for (const [path, heading, shot] of [
        ['/console/roles', 'Named roles', 'console-roles'],
        ['/console/workspaces', 'Workspaces', 'console-workspaces'],
        ['/console/groups', 'Groups', 'console-groups'],
        ['/console/projects', 'Projects', 'console-projects'],
      ] as const) {
        await page.goto(`${base}${path}`);
        await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
        await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
        await assertAccessible(page, path);
        await screenshot(page, shot);
      }
    } catch (e) {
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({
        path: `test-artifacts/console-failure-${Date.now()}.png`,
        fullPage: true,
      });
      throw e;
    } finally {
      await context.close();
    }
  });

  it('gives a plain user only their account, where they create and revoke an API key', async () => {
    const { context, page } = await signedIn(plain, '/console');
    try {
      // Nothing to administer: the console sends them to /account, and the API refuses anyway.
      await page.waitForURL(`${base}/account`);
      await page.getByRole('heading', { name: 'Your account', level: 1 }).waitFor();
      await page.goto(`${base}/console/users`);
      await page.waitForURL(`${base}/account`);
      const cookie = (await context.cookies(base)).find((c) => c.name === 'gh_session');
      const refused = await fetch(`${base}/api/v1/users`, {
        headers: { Cookie: `gh_session=${cookie?.value ?? ''}` },
      });
      assert.equal(refused.status, 403);
      await page.getByRole('heading', { name: 'Sessions' }).waitFor();
      await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
      await assertAccessible(page, 'account');
      await screenshot(page, 'account');

      // A key without a name: the field says why, nothing is stored.
      await page.getByRole('button', { name: 'Create API key' }).click();
      const dialog = page.getByRole('dialog', { name: 'Create API key' });
      await dialog.getByRole('button', { name: 'Create key' }).click();
      await page.locator('input[name="name"][aria-invalid="true"]').waitFor();
      assert.equal(await t.db.getRepository(ApiKey).countBy({ userId: plain.user.id }), 0);

      await dialog.getByLabel('Name', { exact: true }).fill('laptop scripts');
      await dialog.getByRole('button', { name: 'Create key' }).click();
      const secret = (await page.getByTestId('new-api-key').textContent()) ?? '';
      assert.match(secret, /^gth_/);
      await assertAccessible(page, 'new API key');
      await screenshot(page, 'account-new-api-key');
      const key = await t.db
        .getRepository(ApiKey)
        .findOneByOrFail({ userId: plain.user.id, name: 'laptop scripts' });
      assert.equal(key.revokedAt, null);
      const usable = await t.http
        .get('/api/v1/auth/whoami')
        .set({ Authorization: `Bearer ${secret}` });
      assert.equal(usable.status, 200);
      await dialog.getByRole('button', { name: 'Done' }).click();

      await page.getByRole('button', { name: 'Revoke laptop scripts' }).click();
      await page
        .getByRole('button', { name: 'Revoke laptop scripts' })
        .waitFor({ state: 'detached' });
      const after = await t.db.getRepository(ApiKey).findOneByOrFail({ id: key.id });
      assert.ok(after.revokedAt, 'the key is revoked');
      const dead = await t.http
        .get('/api/v1/auth/whoami')
        .set({ Authorization: `Bearer ${secret}` });
      assert.equal(dead.status, 401);
    } catch (e) {
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({
        path: `test-artifacts/console-failure-${Date.now()}.png`,
        fullPage: true,
      });
      throw e;
    } finally {
      await context.close();
    }
  });
});
