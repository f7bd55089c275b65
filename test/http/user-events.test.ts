import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UserEventBus } from '#src/kernel/events.js';
import { createTestApp, type TestApp } from '../support/app.js';

// Who reacts to what across modules: a change here is a change of behaviour, reviewed like one.
describe(UserEventBus.name, () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  it('lists every declared reaction, per event, in the order they run', () => {
    const byEvent: Record<string, string[]> = {};
    for (const s of t.get(UserEventBus).subscribers()) (byEvent[s.event] ??= []).push(s.handler);
    for (const list of Object.values(byEvent)) list.sort();
    assert.deepEqual(byEvent, {
      'user.credentials-changed': [
        'ApiKeysService.onCredentialsChanged',
        'GrantsService.onCredentialsChanged',
        'SessionsService.onCredentialsChanged',
      ],
      'user.disabled': [
        'ApiKeysService.onDisabled',
        'GrantsService.onDisabled',
        'SessionsService.onDisabled',
      ],
      'user.signed-up': ['WorkspacesService.onSignedUp'],
    });
  });
});
