import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { Invitation } from '#src/tenancy/entities/invitation.entity.js';
import { WorkspaceMember } from '#src/tenancy/entities/workspace.entity.js';
import type { TestApp } from '../support/app.js';
import { PagesBrowser, skip } from '../support/pages-browser.js';
import { sessionsOf, userByEmail, userWithPasswordHash } from '../factories/auth.js';
import { makeUser, uniqueEmail, type MadeUser } from '../factories/users.js';
import { createWorkspace } from '../factories/workspaces.js';

const PASSWORD = 'a sturdy invitation passphrase';

/**
 * An invited person in real Chromium: a workspace admin invites by email through the API, the
 * person opens the mailed /invite link, sets a password, accepts and signs in; a known person
 * declines. Every page state checked with axe-core at desktop and phone widths.
 */
describe('invitation page in Chromium, with axe-core', { skip }, () => {
  const s = new PagesBrowser();
  const { smtp, checked } = s;
  const check = (name: string): Promise<void> => s.check(name);
  let t: TestApp;
  let base = '';
  let context: BrowserContext;
  let page: Page;
  let admin: MadeUser;
  let ws: { id: string; domain: string; title: string };

  before(async () => {
    await s.start({ INVITATION_DAYS: '7' });
    ({ t, base, context, page } = s);
    admin = await makeUser(t);
    ws = await createWorkspace(t, admin.auth);
  });
  after(() => s.stop());

  /** The admin invites one email through the API; returns the invitation id and the mailed link. */
  async function invite(email: string, role: string): Promise<{ id: string; link: string }> {
    const res = await t.http
      .post(`/api/v1/workspaces/${ws.domain}/invitations`)
      .set(admin.auth)
      .send({ emails: [email], role });
    assert.equal(res.status, 201, res.text);
    const item = (res.body as { items: { status: number; id: string }[] }).items[0];
    assert.equal(item?.status, 201);
    const mail = await smtp.waitFor(email, /Invitation to the Gatehouse workspace/);
    const link = mail.text
      .match(/https?:\/\/\S+/g)
      ?.find((u) => u.startsWith(`${base}/invite?token=`));
    assert.ok(link, `an /invite link in: ${mail.text}`);
    return { id: item.id, link };
  }
  const invitation = (id: string) => t.db.getRepository(Invitation).findOneByOrFail({ id });
  const member = (userId: string) =>
    t.db.getRepository(WorkspaceMember).findOneBy({ workspaceId: ws.id, userId });

  it('a new person accepts from the mailed link with a password, then signs in', async () => {
    const email = uniqueEmail('invitee');
    const { id, link } = await invite(email, 'reader');

    const opened = await page.goto(link);
    assert.equal(opened?.status(), 200);
    await page.getByRole('heading', { name: `Join ${ws.title}` }).waitFor();
    assert.equal(await page.getByLabel('Email').inputValue(), email);
    await check('invite');
    // Opening the link spent nothing and made no account.
    assert.equal((await invitation(id)).status, 'pending');
    assert.equal(await userByEmail(t, email), null);

    // Too short: the message at the field, nothing written.
    await page.getByLabel('Choose a password').fill('short');
    await page.getByRole('button', { name: 'Accept and create my password' }).click();
    await page.waitForSelector('#password-error');
    assert.match((await page.textContent('#password-error')) ?? '', /at least 12 characters/);
    assert.equal(await page.getByLabel('Choose a password').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Choose a password').inputValue(), '');
    await check('invite-password-error');
    assert.equal(await userByEmail(t, email), null);
    assert.equal((await invitation(id)).status, 'pending');

    await page.getByLabel('Choose a password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Accept and create my password' }).click();
    await page.getByRole('heading', { name: `You joined ${ws.title}` }).waitFor();
    await check('invite-accepted');

    const user = await userByEmail(t, email);
    assert.ok(user);
    assert.equal(user.status, 'active');
    assert.equal(user.emailVerified, true);
    assert.ok((await userWithPasswordHash(t, user.id)).passwordHash);
    assert.equal((await member(user.id))?.role, 'reader');
    const spent = await invitation(id);
    assert.equal(spent.status, 'accepted');
    assert.equal(spent.decidedBy, user.id);

    // Sign in with the new password; no returnTo: `/` sends a reader to their account page.
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/signin`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(`${base}/account`);
    assert.equal((await sessionsOf(t, user.id)).length, 1);

    // The link again: used (410), and nothing changes.
    const again = await page.goto(link);
    assert.equal(again?.status(), 410);
    await page.getByRole('heading', { name: 'Invitation already used' }).waitFor();
    await check('invite-link-used');
    assert.equal((await invitation(id)).status, 'accepted');
    assert.equal((await member(user.id))?.role, 'reader');
  });

  it('a known person declines from the mailed link without signing in', async () => {
    await context.clearCookies();
    const known = await makeUser(t, { signIn: false });
    const { id, link } = await invite(known.email, 'user');

    await page.goto(link);
    await page.getByRole('heading', { name: `Join ${ws.title}` }).waitFor();
    // An account with a password: accepting asks to sign in, no password field here.
    await page.getByRole('link', { name: `Sign in as ${known.email}` }).waitFor();
    assert.equal(await page.locator('#password').count(), 0);
    await check('invite-known');

    await page.getByRole('button', { name: 'Decline' }).click();
    await page.getByRole('heading', { name: 'Invitation declined' }).waitFor();
    await check('invite-declined');
    const declined = await invitation(id);
    assert.equal(declined.status, 'declined');
    assert.equal(declined.decidedBy, known.user.id);
    assert.equal(await member(known.user.id), null);

    const again = await page.goto(link);
    assert.equal(again?.status(), 410);
    await page.getByRole('heading', { name: 'Invitation already used' }).waitFor();
  });

  it('checked every page state', () => {
    assert.equal(checked.length, 6, checked.join(', '));
  });
});
