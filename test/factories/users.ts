import { randomBytes } from 'node:crypto';
import { Database } from '#src/database/database.service.js';
import type { ServerRole } from '#src/kernel/principal.js';
import type { User, UserStatus } from '#src/users/user.entity.js';
import { UsersService } from '#src/users/users.service.js';
import type { TestApp } from '../support/app.js';

export const PASSWORD = 'correct horse battery staple';

export function uniqueEmail(tag = 'user'): string {
  return `${tag}-${randomBytes(5).toString('hex')}@example.test`;
}

export interface MadeUser {
  user: User;
  email: string;
  password: string;
  token: string;
  auth: { Authorization: string };
}

/** A user made through the service (so each test owns uniquely named rows), signed in when active. */
export async function makeUser(
  t: TestApp,
  opts: {
    role?: ServerRole;
    status?: UserStatus;
    emailVerified?: boolean;
    email?: string;
    password?: string | null;
    fullName?: string;
    signIn?: boolean;
  } = {},
): Promise<MadeUser> {
  const email = opts.email ?? uniqueEmail(opts.role ?? 'user');
  const password = opts.password === undefined ? PASSWORD : opts.password;
  const users = t.get(UsersService);
  const user = await t.get(Database).transaction((tx) =>
    users.createUser(
      tx,
      {
        email,
        password,
        fullName: opts.fullName ?? null,
        role: opts.role ?? 'user',
        status: opts.status ?? 'active',
        emailVerified: opts.emailVerified ?? true,
      },
      null,
    ),
  );
  let token = '';
  if ((opts.signIn ?? true) && (opts.status ?? 'active') === 'active' && password) {
    const res = await t.http.post('/api/v1/auth/login').send({ username: email, password });
    if (res.status !== 200)
      throw new Error(`sign-in of ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
    token = (res.body as { token: string }).token;
  }
  return {
    user,
    email,
    password: password ?? '',
    token,
    auth: { Authorization: `Bearer ${token}` },
  };
}
