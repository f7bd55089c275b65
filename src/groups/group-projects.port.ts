import type { Principal } from '../auth/principal.js';
import type { Tx } from '../database/database.service.js';
import type { Group } from './group.entity.js';

export interface GroupProjectRow {
  groupId: string;
  projectId: string;
  projectName: string;
  role: string;
}

/**
 * What the groups module needs from projects. The projects module implements it and registers it at
 * start-up (projects depends on groups, so groups cannot import projects without a cycle).
 */
export interface GroupProjectsPort {
  /** Project memberships of these groups. */
  projectsOf(groupIds: string[], tx?: Tx): Promise<GroupProjectRow[]>;
  /** Of these projects, those the caller may see. */
  visibleProjectIds(p: Principal, projectIds: string[]): Promise<Set<string>>;
  /**
   * 403 unless the actor holds, in every project the group is a member of, all permissions of the
   * group's role there: adding someone to the group hands them exactly that (anti-escalation).
   */
  assertActorCoversGroup(tx: Tx, p: Principal, group: Group): Promise<void>;
  /** Makes the group a member of exactly these projects (new ones as reader). */
  setGroupProjects(
    tx: Tx,
    p: Principal,
    group: Group,
    projectIds: string[],
  ): Promise<{ added: string[]; removed: string[] }>;
  /** The project a group is scoped to: visible to the caller (404) and in the workspace (422). */
  requireScopeProject(p: Principal, projectId: string, workspaceId: string, tx?: Tx): Promise<void>;
}
