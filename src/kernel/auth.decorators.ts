import {
  applyDecorators,
  createParamDecorator,
  SetMetadata,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiExtension } from '@nestjs/swagger';
import { PUBLIC_EXTENSION } from '#src/common/http/openapi.js';
import type { AuthenticatedRequest, Principal } from '#src/kernel/principal.js';
import { AppException } from '#src/common/errors/app.exception.js';

export const AUTH_METADATA = 'gatehouse:auth';

/**
 * A rule on one resource of the route, declared where the route is: which workspace, group or
 * project the request names (a path parameter, a query or a body field), and what the caller must
 * be allowed there. Workspaces: `member`, `contributor` (creates projects and groups) or `admin`.
 * Groups: `member` (may see it), `manager` or `deleter`. Projects: a project permission such as
 * `projects.update`. A module that owns such resources enforces its rules with a guard of its own.
 */
export type ResourceRule =
  | {
      kind: 'workspace';
      in: ResourceLocation;
      name: string;
      need: 'member' | 'contributor' | 'admin';
    }
  | { kind: 'group'; in: ResourceLocation; name: string; need: 'member' | 'manager' | 'deleter' }
  | { kind: 'project'; in: ResourceLocation; name: string; need: string }
  /** A listing: answers with the rows of this kind the caller may see, and nothing else. */
  | { kind: 'visible'; of: 'workspaces' | 'groups' | 'projects' };

/** Where the request names the resource: `param` is required, `query` and `body` when present. */
export type ResourceLocation = 'param' | 'query' | 'body';

export type AuthRequirement =
  | {
      public: true;
      /**
       * The route signs someone in (sets the session cookie): a cross-site form must not reach it.
       * Checked by the guard before the handler: JSON, or a form with this site's Origin.
       */
      setsSessionCookie?: boolean;
      /**
       * Not for principals: the route's module authenticates its own bearer token in a guard of its
       * own (SCIM tokens at /scim/v2), so the global guard lets the request through to it.
       */
      ownBearer?: 'scim-token';
    }
  | {
      public: false;
      /** Server permission the caller must hold. */
      permission?: string;
      /** Route parameter naming a user id: that user (or `me`) passes without the permission. */
      self?: string;
      /** Refuse callers whose credential is not a browser/API session (e.g. API keys may not mint keys). */
      credentials?: ('session' | 'api_key' | 'access_token')[];
      /** Changes passwords, factors or credentials: refused to impersonation sessions (403). */
      changesCredentials?: boolean;
      /** The resource rule, checked by the guard of the module that owns the resource. */
      resource?: ResourceRule;
      /**
       * Usable by a session that must enrol a second factor first (MFA_REQUIRED, a workspace's
       * mfaRequired): the enrolment routes, whoami and logout. Every other route refuses it.
       */
      duringMfaEnrolment?: boolean;
    };

/** Anyone, signed in or not. Every other route needs a signed-in caller. */
export function Public(
  options: Omit<Extract<AuthRequirement, { public: true }>, 'public'> = {},
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(AUTH_METADATA, { public: true, ...options } satisfies AuthRequirement),
    // The OpenAPI document declares these routes with `security: []`.
    ApiExtension(PUBLIC_EXTENSION, true),
  );
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

export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Principal => {
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!req.principal) throw AppException.unauthenticated();
    return req.principal;
  },
);
