import {
  createParamDecorator,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '#src/config/config.js';
import { ScimException } from '#src/common/errors/scim-error.js';
import { ScimTokensService, type ScimContext } from '#src/scim/scim-tokens.service.js';

const SCIM_CONTEXT = Symbol('gatehouse:scim-context');
type ScimRequest = FastifyRequest & { [SCIM_CONTEXT]?: ScimContext };
const WINDOW_MS = 60_000;

function unauthenticated(detail: string): ScimException {
  return new ScimException(401, detail, undefined, { 'WWW-Authenticate': 'Bearer realm="scim"' });
}

/**
 * /scim/v2: a workspace SCIM token in `Authorization: Bearer`, looked up by its hash on every
 * request (a revoked token stops at once), then RATE_LIMIT_SCIM requests a minute per token.
 */
@Injectable()
export class ScimAuthGuard implements CanActivate {
  constructor(
    private readonly tokens: ScimTokensService,
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<ScimRequest>();
    const header = req.headers.authorization;
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m?.[1]) throw unauthenticated('A SCIM bearer token is required.');
    const ctx = await this.tokens.resolve(m[1]);
    if (!ctx) throw unauthenticated('The SCIM token is invalid or revoked.');
    const limit = this.config.rateLimitScim;
    if (limit > 0) {
      const r = await this.storage.increment(ctx.tokenId, WINDOW_MS, limit, WINDOW_MS, 'scim');
      if (r.isBlocked)
        throw new ScimException(
          429,
          'Too many requests for this SCIM token; retry later.',
          undefined,
          {
            'Retry-After': String(Math.max(1, r.timeToBlockExpire)),
          },
        );
    }
    req[SCIM_CONTEXT] = ctx;
    return true;
  }
}

/** The workspace and token of the request (set by ScimAuthGuard). */
export const Scim = createParamDecorator((_data: unknown, ctx: ExecutionContext): ScimContext => {
  const c = ctx.switchToHttp().getRequest<ScimRequest>()[SCIM_CONTEXT];
  if (!c) throw unauthenticated('A SCIM bearer token is required.');
  return c;
});
