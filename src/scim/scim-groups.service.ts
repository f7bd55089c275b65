import { Injectable } from '@nestjs/common';
import { AuditService } from '#src/audit/audit.service.js';
import { AppConfig } from '#src/config/config.js';
import { Database, type Tx } from '#src/database/database.service.js';
import type { Group } from '#src/tenancy/entities/group.entity.js';
import { isGroupId } from '#src/tenancy/groups/group-id.js';
import { WorkspaceProvisioningService } from '#src/tenancy/workspaces/workspace-provisioning.service.js';
import { ScimException } from '#src/common/errors/scim-error.js';
import { ScimGroup } from '#src/scim/scim-group.entity.js';
import { readGroup, type GroupInput } from '#src/scim/scim-input.js';
import { applyPatch } from '#src/scim/scim-patch.js';
import {
  checkIfMatch,
  etagOf,
  listResponse,
  project,
  type ListParams,
  type ScimResource,
} from '#src/scim/scim-resources.js';
import { GROUP_SCHEMA } from '#src/scim/scim-schemas.js';
import type { ScimContext } from '#src/scim/scim-tokens.service.js';
import { ScimRepository } from '#src/scim/scim.repository.js';
import type { Written } from '#src/scim/scim-users.service.js';

/** Top-level attributes a Group PATCH may name (lower case); others are ignored. */
const GROUP_PATCHABLE: ReadonlySet<string> = new Set([
  'id',
  'meta',
  'schemas',
  'displayname',
  'externalid',
  'members',
  'urn:ietf:params:scim:schemas:core:2.0:group',
]);

interface Member {
  userId: string;
  display: string;
}

/** SCIM Groups: the token's workspace's own groups (not the project-scoped ones), members by user id. */
@Injectable()
export class ScimGroupsService {
  private readonly base: string;

  constructor(
    private readonly db: Database,
    private readonly repo: ScimRepository,
    private readonly tenancy: WorkspaceProvisioningService,
    private readonly audit: AuditService,
    config: AppConfig,
  ) {
    this.base = `${config.publicUrl.replace(/\/$/, '')}/scim/v2`;
  }

  async list(ctx: ScimContext, p: ListParams): Promise<Record<string, unknown>> {
    const { ids, total } = await this.repo.searchGroups(ctx.workspaceId, {
      ...(p.filter !== undefined ? { filter: p.filter } : {}),
      ...(p.sortBy ? { sortBy: p.sortBy } : {}),
      descending: p.descending,
      offset: p.startIndex - 1,
      count: p.count,
    });
    const resources = (await this.load(ctx, ids)).map((r) =>
      project(r, p.attributes, p.excludedAttributes),
    );
    return listResponse(resources, total, p.startIndex);
  }

  async get(ctx: ScimContext, id: string): Promise<ScimResource> {
    const [r] = isGroupId(id) ? await this.load(ctx, [id]) : [];
    if (!r) throw ScimException.notFound('Group');
    return r;
  }

  async create(ctx: ScimContext, body: unknown): Promise<Written> {
    const input = readGroup(body);
    const id = await this.db.transaction(async (tx) => {
      const g = await this.tenancy.createGroup(
        tx,
        ctx.workspaceId,
        input.displayName,
        input.memberIds,
        ctx.tokenId,
      );
      await this.saveScim(tx, ctx, g.id, input.externalId);
      return g.id;
    });
    return { resource: await this.get(ctx, id), created: true };
  }

  async replace(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string,
  ): Promise<ScimResource> {
    const input = readGroup(body);
    await this.db.transaction(async (tx) => {
      const current = await this.lockCurrent(tx, ctx, id);
      checkIfMatch(ifMatch, current.resource.meta.version);
      await this.write(tx, ctx, current, input);
    });
    return this.get(ctx, id);
  }

  async patch(
    ctx: ScimContext,
    id: string,
    body: unknown,
    ifMatch?: string,
  ): Promise<ScimResource> {
    await this.db.transaction(async (tx) => {
      const current = await this.lockCurrent(tx, ctx, id);
      checkIfMatch(ifMatch, current.resource.meta.version);
      const patched = applyPatch(current.resource, body, GROUP_PATCHABLE);
      if (patched.id !== id) throw ScimException.mutability('id cannot be changed.');
      await this.write(tx, ctx, current, readGroup(patched));
    });
    return this.get(ctx, id);
  }

  async remove(ctx: ScimContext, id: string, ifMatch?: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const current = await this.lockCurrent(tx, ctx, id);
      checkIfMatch(ifMatch, current.resource.meta.version);
      await this.tenancy.deleteGroup(tx, current.group, ctx.tokenId);
    });
  }

  private async lockCurrent(
    tx: Tx,
    ctx: ScimContext,
    id: string,
  ): Promise<{
    resource: ScimResource;
    group: Group;
    memberIds: string[];
    externalId: string | null;
  }> {
    const group = isGroupId(id)
      ? await this.tenancy.findGroup(tx, ctx.workspaceId, id, true)
      : null;
    if (!group) throw ScimException.notFound('Group');
    const [resource] = await this.load(ctx, [id], tx);
    if (!resource) throw ScimException.notFound('Group');
    const memberIds = await this.tenancy.groupMemberIds(tx, id);
    const externalId = typeof resource.externalId === 'string' ? resource.externalId : null;
    return { resource, group, memberIds, externalId };
  }

  private async write(
    tx: Tx,
    ctx: ScimContext,
    current: { group: Group; memberIds: string[]; externalId: string | null },
    input: GroupInput,
  ): Promise<void> {
    const want = new Set(input.memberIds);
    await this.tenancy.updateGroup(
      tx,
      current.group,
      {
        name: input.displayName,
        add: input.memberIds.filter((u) => !current.memberIds.includes(u)),
        remove: current.memberIds.filter((u) => !want.has(u)),
      },
      ctx.tokenId,
    );
    if (input.externalId !== current.externalId)
      await this.saveScim(tx, ctx, current.group.id, input.externalId);
  }

  private async saveScim(
    tx: Tx,
    ctx: ScimContext,
    groupId: string,
    externalId: string | null,
  ): Promise<void> {
    const row = new ScimGroup();
    row.groupId = groupId;
    row.workspaceId = ctx.workspaceId;
    row.externalId = externalId;
    row.createdAt = new Date();
    row.updatedAt = row.createdAt;
    await this.repo.saveScimGroup(tx, row);
  }

  private async load(ctx: ScimContext, ids: string[], tx?: Tx): Promise<ScimResource[]> {
    if (ids.length === 0) return [];
    const groups = await this.tenancy.findGroups(ctx.workspaceId, ids, tx);
    const [scims, members] = await Promise.all([
      this.repo.findScimGroups(
        groups.map((g) => g.id),
        tx,
      ),
      this.repo.groupMembers(
        groups.map((g) => g.id),
        tx,
      ),
    ]);
    const order = new Map(ids.map((id, i) => [id, i]));
    return groups
      .sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0))
      .map((g) =>
        this.render(
          g,
          scims.find((s) => s.groupId === g.id)?.externalId ?? null,
          members.filter((m) => m.groupId === g.id),
        ),
      );
  }

  private render(g: Group, externalId: string | null, members: Member[]): ScimResource {
    const body = {
      schemas: [GROUP_SCHEMA],
      id: g.id,
      displayName: g.name,
      ...(externalId !== null ? { externalId } : {}),
      members: members.map((m) => ({
        value: m.userId,
        display: m.display,
        $ref: `${this.base}/Users/${m.userId}`,
        type: 'User',
      })),
    };
    return {
      ...body,
      meta: {
        resourceType: 'Group',
        created: g.createdAt.toISOString(),
        lastModified: g.updatedAt.toISOString(),
        location: `${this.base}/Groups/${g.id}`,
        version: etagOf(body),
      },
    };
  }
}
