import { Injectable } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import type { Page } from '#src/common/http/pagination.js';
import { Database } from '#src/database/database.service.js';
import { UsersService } from '#src/users/users.service.js';
import type { Principal } from '#src/kernel/principal.js';
import { SessionsService, type SessionResponse } from '#src/auth/sessions/sessions.service.js';

/** The sessions routes of a user: `me` resolves to the caller; an unknown user is 404. */
@Injectable()
export class SessionsAdminService {
  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
  ) {}

  private async userId(p: Principal, id: string): Promise<string> {
    const userId = id === 'me' ? p.userId : id;
    await this.users.requireUser(userId);
    return userId;
  }

  private current(p: Principal): string | null {
    return p.credential.kind === 'session' ? p.credential.id : null;
  }

  async list(
    p: Principal,
    id: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<SessionResponse>> {
    return this.sessions.list(await this.userId(p, id), limit, cursor, this.current(p));
  }

  async get(p: Principal, id: string, sid: string): Promise<SessionResponse> {
    return this.sessions.get(await this.userId(p, id), sid, this.current(p));
  }

  async revoke(p: Principal, id: string, sid: string): Promise<void> {
    const userId = await this.userId(p, id);
    const done = await this.db.transaction((tx) =>
      this.sessions.revokeById(tx, sid, userId, p.userId),
    );
    if (!done) throw AppException.notFound('Session');
  }
}
