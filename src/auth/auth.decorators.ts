import {
  applyDecorators,
  createParamDecorator,
  SetMetadata,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth } from '@nestjs/swagger';
import type { AuthenticatedRequest, Principal } from './principal.js';
import { AppException } from '../common/errors/app.exception.js';

export const AUTH_METADATA = 'gatehouse:auth';
export const SIGNIN_LIMIT_METADATA = 'gatehouse:signin-limit';

export type AuthRequirement =
  | { public: true }
  | {
      public: false;
      /** Server permission the caller must hold. */
      permission?: string;
      /** Route parameter naming a user id: that user (or `me`) passes without the permission. */
      self?: string;
      /** Refuse callers whose credential is not a browser/API session (e.g. API keys may not mint keys). */
      credentials?: ('session' | 'api_key' | 'access_token')[];
    };

/** Anyone, signed in or not. Every other route needs a signed-in caller. */
export function Public(): MethodDecorator & ClassDecorator {
  return SetMetadata(AUTH_METADATA, { public: true } satisfies AuthRequirement);
}

/** A signed-in caller, optionally holding `permission` (or being the user named by route param `self`). */
export function Authenticated(
  options: Omit<Extract<AuthRequirement, { public: false }>, 'public'> = {},
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(AUTH_METADATA, { public: false, ...options } satisfies AuthRequirement),
    ApiBearerAuth(),
    ApiCookieAuth(),
  );
}

/** Per-client-IP limit of RATE_LIMIT_SIGNIN requests a minute (sign-in, registration, reset, token routes). */
export function SignInRateLimit(): MethodDecorator {
  return SetMetadata(SIGNIN_LIMIT_METADATA, true);
}

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!req.principal) throw AppException.unauthenticated();
    return req.principal;
  },
);
