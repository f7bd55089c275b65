import { useQuery } from '@tanstack/react-query';
import { api, call, permits } from './api.ts';
import type { Schema } from '../../../clients/typescript/index.ts';

export type WhoAmI = Schema<'WhoAmIResponse'>;
export type Workspace = Schema<'WorkspaceResponseDto'>;

export interface Access {
  me: WhoAmI;
  /** Workspaces the caller administers (their console scope when not a server admin). */
  adminWorkspaces: Workspace[];
  canReadUsers: boolean;
  canManageUsers: boolean;
  canManageRoles: boolean;
  canReadAudit: boolean;
  canManageWebhooks: boolean;
  /** Whether the console has anything for this caller; otherwise they belong on /account. */
  isConsoleUser: boolean;
}

export function useAccess(): { access?: Access; error: Error | null; isPending: boolean } {
  const q = useQuery({
    queryKey: ['access'],
    queryFn: async (): Promise<Access> => {
      const me = await call(api.GET('/api/v1/auth/whoami'));
      const ws = await call(
        api.GET('/api/v1/workspaces', { params: { query: { adminOnly: true, limit: 500 } } }),
      );
      const p = me.permissions;
      const canReadUsers = permits(p, 'users.read') || permits(p, 'users.manage');
      return {
        me,
        adminWorkspaces: ws.items,
        canReadUsers,
        canManageUsers: permits(p, 'users.manage'),
        canManageRoles: permits(p, 'roles.manage'),
        canReadAudit: permits(p, 'audit.read'),
        canManageWebhooks: permits(p, 'webhooks.manage'),
        isConsoleUser: canReadUsers || ws.items.length > 0,
      };
    },
    staleTime: 60_000,
  });
  return { access: q.data, error: q.error, isPending: q.isPending };
}
