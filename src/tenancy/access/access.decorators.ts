import {
  applyDecorators,
  createParamDecorator,
  Injectable,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { requireId } from '#src/common/http/id-param.js';
import {
  AUTH_METADATA,
  Authenticated,
  type AuthRequirement,
  type ResourceLocation,
  type ResourceRule,
} from '#src/kernel/auth.decorators.js';
import type { AuthenticatedRequest } from '#src/kernel/principal.js';
import {
  AccessService,
  type GroupAccess as GroupView,
  type ProjectView,
  type WorkspaceAccess as WorkspaceView,
} from '#src/tenancy/access/access.service.js';
import { requireGroupId } from '#src/tenancy/groups/group-id.js';

/** What the route's guard read and judged, by the kind of its resource rule. */
interface Checked {
  workspace: WorkspaceView;
  group: GroupView;
  project: ProjectView;
}
const CHECKED = Symbol('gatehouse:checked-resource');
type CheckedRequest = AuthenticatedRequest & { [CHECKED]?: Partial<Checked> };

type Need<K extends ResourceRule['kind']> = Extract<
  ResourceRule,
  { kind: K; need: unknown }
>['need'];

/**
 * Checks the route's declared resource rule before the handler runs: 400 for a malformed id (no
 * query made), 404 for what the caller may not see, 403 for what they see but may not do. The
 * services check again inside their transactions, with the rows locked, for concurrent changes.
 */
@Injectable()
export class ResourceAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly access: AccessService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<CheckedRequest>();
    const requirement = this.reflector.getAllAndOverride<AuthRequirement | undefined>(
      AUTH_METADATA,
      [context.getHandler(), context.getClass()],
    );
    const rule = requirement && !requirement.public ? requirement.resource : undefined;
    const p = req.principal;
    if (!rule || rule.kind === 'visible' || !p) return true;
    const value = named(req, rule.in, rule.name);
    if (value === undefined) return true; // optional (query, body) and absent: validation decides
    switch (rule.kind) {
      case 'workspace':
        req[CHECKED] = { workspace: await this.access.workspace(p, { domain: value }, rule.need) };
        return true;
      case 'group':
        req[CHECKED] = {
          group: await this.access.group(p, requireGroupId(value, rule.name), rule.need),
        };
        return true;
      case 'project':
        req[CHECKED] = {
          project: await this.access.project(p, requireId(value, rule.name), rule.need),
        };
        return true;
    }
  }
}

/**
 * What this request's resource guard read and judged: for a read that needs nothing more than that
 * check, so the resource and the caller's roles in it are not read a second time. Changes check
 * again inside their transactions (see the guard), not with this.
 */
function checked<K extends keyof Checked>(kind: K, rule: string): () => ParameterDecorator {
  return createParamDecorator((_data: unknown, ctx: ExecutionContext): Checked[K] => {
    const v = ctx.switchToHttp().getRequest<CheckedRequest>()[CHECKED]?.[kind];
    if (!v) throw new Error(`The route reads the checked ${kind} without ${rule} on it`);
    return v;
  });
}

/** The workspace the route's `@WorkspaceAccess()` judged, with the caller's role in it. */
export const CheckedWorkspace = checked('workspace', '@WorkspaceAccess()');
/** The group the route's `@GroupAccess()` judged, with what the caller may do with it. */
export const CheckedGroup = checked('group', '@GroupAccess()');
/** The project the route's `@ProjectAccess()` judged, with the caller's permissions and roles. */
export const CheckedProject = checked('project', '@ProjectAccess()');

function named(
  req: AuthenticatedRequest,
  where: ResourceLocation,
  name: string,
): string | undefined {
  const source: unknown = where === 'param' ? req.params : where === 'query' ? req.query : req.body;
  const v =
    source && typeof source === 'object' ? (source as Record<string, unknown>)[name] : undefined;
  return typeof v === 'string' ? v : undefined;
}

function declare(resource: ResourceRule, permission?: string): MethodDecorator {
  return applyDecorators(
    Authenticated({ resource, ...(permission ? { permission } : {}) }),
    UseGuards(ResourceAccessGuard),
  );
}

/** A signed-in caller allowed `need` in the workspace the request names. */
export function WorkspaceAccess(
  need: Need<'workspace'>,
  name = 'domain',
  location: ResourceLocation = 'param',
): MethodDecorator {
  return declare({ kind: 'workspace', in: location, name, need });
}

/** A signed-in caller allowed `need` on the group the request names. */
export function GroupAccess(
  need: Need<'group'>,
  name = 'id',
  location: ResourceLocation = 'param',
): MethodDecorator {
  return declare({ kind: 'group', in: location, name, need });
}

/** A signed-in caller holding the project permission `need` in the project the request names. */
export function ProjectAccess(
  need: string,
  name = 'id',
  location: ResourceLocation = 'param',
): MethodDecorator {
  return declare({ kind: 'project', in: location, name, need });
}

/** A listing that answers with what the caller may see, optionally needing a server permission. */
export function ListsVisible(
  of: 'workspaces' | 'groups' | 'projects',
  permission?: string,
): MethodDecorator {
  return declare({ kind: 'visible', of }, permission);
}
