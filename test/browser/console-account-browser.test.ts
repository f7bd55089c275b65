import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ApiKey } from '#src/credentials/entities/api-key.entity.js';
import { assertAccessible, ConsoleBrowser, screenshot, skip } from '../support/console-browser.js';

describe('account page for a plain user in Chromium', { skip }, () => {
  const s = new ConsoleBrowser();
  before(() => s.start());
  after(() => s.stop());
  const signedIn = (who: ConsoleBrowser['admin'], returnTo: string) => s.signedIn(who, returnTo);

  it('gives a plain user only their account, where they create and revoke an API key', async () => {
    const { t, base, plain } = s;
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
