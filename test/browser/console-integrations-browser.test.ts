import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ScimToken } from '#src/scim/scim-token.entity.js';
import { WebhookEndpoint } from '#src/webhooks/entities/webhook-endpoint.entity.js';
import { Workspace } from '#src/tenancy/entities/workspace.entity.js';
import { Receiver } from '../factories/webhooks.js';
import { assertAccessible, ConsoleBrowser, screenshot, skip } from '../support/console-browser.js';

describe('console integrations (SCIM tokens, webhooks) in Chromium', { skip }, () => {
  const s = new ConsoleBrowser();
  const rx = new Receiver();
  before(async () => {
    await s.start({ WEBHOOK_ALLOW_PRIVATE: 'true' });
    await rx.start();
  });
  after(async () => {
    await s.stop();
    await rx.stop();
  });

  it('lets an admin create and revoke a SCIM token, and create a webhook and watch its deliveries', async () => {
    const { t, admin, workspace } = s;
    const { context, page } = await s.signedIn(admin, `/console/workspaces/${workspace.domain}`);
    try {
      // SCIM: a token is shown once; only its hash is stored.
      const ws = await t.db.getRepository(Workspace).findOneByOrFail({ domain: workspace.domain });
      await page.getByRole('heading', { name: workspace.title, level: 1 }).waitFor();
      await page.getByRole('heading', { name: 'SCIM provisioning' }).waitFor();
      await page.getByRole('button', { name: 'Create SCIM token' }).click();
      const sd = page.getByRole('dialog', { name: 'Create SCIM token' });
      await sd.getByLabel('Name', { exact: true }).fill('Entra ID');
      await sd.getByRole('button', { name: 'Create token' }).click();
      const token = (await page.getByTestId('new-scim-token').textContent()) ?? '';
      assert.ok(token.length > 20, 'the token is shown');
      await sd.getByText('You will not see it again', { exact: false }).waitFor();
      await assertAccessible(page, 'new SCIM token');
      await screenshot(page, 'console-scim-token-created');
      const rows = await t.db.getRepository(ScimToken).findBy({ workspaceId: ws.id });
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.tokenHash, createHash('sha256').update(token).digest('hex'));
      const raw = await t.db.query<Record<string, unknown>[]>('SELECT * FROM scim_tokens');
      assert.ok(!JSON.stringify(raw).includes(token), 'the token itself is not stored');
      await sd.getByRole('button', { name: 'Done' }).click();
      await page.getByText('Entra ID', { exact: true }).waitFor();
      await assertAccessible(page, 'workspace with SCIM tokens');
      await screenshot(page, 'console-scim-tokens');
      await page.getByRole('button', { name: 'Revoke Entra ID' }).click();
      const rd = page.getByRole('dialog', { name: 'Revoke SCIM token' });
      await rd.getByRole('button', { name: 'Revoke token' }).click();
      await page.getByText('No SCIM tokens').waitFor();
      assert.equal(await t.db.getRepository(ScimToken).countBy({ workspaceId: ws.id }), 0);

      // Webhooks: a bad URL is refused at the field with nothing written.
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
      await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
      await assertAccessible(page, 'webhooks');
      await screenshot(page, 'console-webhooks-empty');
      await page.getByRole('button', { name: 'Create webhook' }).click();
      const wd = page.getByRole('dialog', { name: 'Create webhook' });
      await wd.getByLabel('URL', { exact: true }).fill('not a url');
      const events = wd.getByLabel('Events', { exact: true });
      await events.fill('user.*');
      await events.press('Enter');
      await wd.getByRole('button', { name: 'Create webhook' }).click();
      await wd.locator('input[name="url"][aria-invalid="true"]').waitFor();
      await assertAccessible(page, 'create webhook (with an error)');
      await screenshot(page, 'console-create-webhook-error');
      const endpoints = t.db.getRepository(WebhookEndpoint);
      assert.equal(await endpoints.countBy({ url: 'not a url' }), 0, 'nothing written');
      assert.equal(await endpoints.countBy({ url: rx.url('/console') }), 0);

      // A good one: the secret is shown once.
      await wd.getByLabel('URL', { exact: true }).fill(rx.url('/console'));
      await wd.getByLabel('Description').fill('Console test receiver');
      await wd.getByRole('button', { name: 'Create webhook' }).click();
      const secret = (await page.getByTestId('new-webhook-secret').textContent()) ?? '';
      assert.match(secret, /^whsec_/);
      await assertAccessible(page, 'new webhook secret');
      await screenshot(page, 'console-webhook-secret');
      await wd.getByRole('button', { name: 'Done' }).click();
      const hook = await endpoints.findOneByOrFail({ url: rx.url('/console') });
      await page.getByRole('link', { name: rx.url('/console') }).click();
      await page.getByRole('heading', { name: 'Webhook', level: 1 }).waitFor();

      // A change (the admin's full name) is delivered and shows in the deliveries view.
      const res = await t.http
        .patch(`/api/v1/users/${admin.user.id}`)
        .set(admin.auth)
        .send({ fullName: 'Ada Admin II' });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const deadline = Date.now() + 20_000;
      const status = page.getByTestId('delivery-status').first();
      for (;;) {
        await page.getByRole('button', { name: 'Refresh' }).click();
        if ((await status.count()) > 0 && (await status.textContent()) === 'succeeded') break;
        assert.ok(Date.now() < deadline, 'a succeeded delivery within 20 s');
        await page.waitForTimeout(500);
      }
      assert.ok(rx.at('/console').length > 0, 'the receiver got it');
      assert.equal(hook.url, rx.url('/console'));
      await page.locator('[aria-busy="true"]').first().waitFor({ state: 'detached' });
      await assertAccessible(page, 'webhook detail');
      await screenshot(page, 'console-webhook-detail');
      await page
        .getByRole('button', { name: /^Redeliver / })
        .first()
        .click();
      await eventuallyReceived(() => rx.at('/console').length > 1);
    } catch (e) {
      mkdirSync('test-artifacts', { recursive: true });
      await page.screenshot({
        path: `test-artifacts/console-integrations-failure-${Date.now()}.png`,
        fullPage: true,
      });
      throw e;
    } finally {
      await context.close();
    }
  });
});

async function eventuallyReceived(ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ok()) {
    assert.ok(Date.now() < deadline, 'redelivered within 10 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}
