import { useQuery } from '@tanstack/react-query';
import { api, ApiError, call, MFA_ENROLMENT_REQUIRED, permits } from './api.ts';
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
  /** `clients.read` (or `clients.manage`): the Clients screen. */
  canReadClients: boolean;
  canManageClients: boolean;
  /**
   * The session must enrol a second factor before anything else works (MFA_REQUIRED or a
   * workspace's mfaRequired): the API refuses every other route with mfa-enrolment-required.
   */
  mfaEnrolmentRequired: boolean;
  /** Whether the console has anything for this caller; otherwise they belong on /account. */
  isConsoleUser: boolean;
}

export function useAccess(): { access?: Access; error: Error | null; isPending: boolean } {
  const q = useQuery({
    queryKey: ['access'],
    queryFn: async (): Promise<Access> => {
      const me = await call(api.GET('/api/v1/auth/whoami'));
      // whoami answers an enrolment-only session too; the first other route tells us it is one.
      const ws = await call(
        api.GET('/api/v1/workspaces', { params: { query: { adminOnly: true, limit: 500 } } }),
      ).catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 403 && e.is(MFA_ENROLMENT_REQUIRED)) return null;
        throw e;
      });
      if (!ws)
        return {
          me,
          adminWorkspaces: [],
          canReadUsers: false,
          canManageUsers: false,
          canManageRoles: false,
          canReadAudit: false,
          canManageWebhooks: false,
          canReadClients: false,
          canManageClients: false,
          mfaEnrolmentRequired: true,
          isConsoleUser: false,
        };
      const p = me.permissions;
      const canReadUsers = permits(p, 'users.read') || permits(p, 'users.manage');
      const canReadClients = permits(p, 'clients.read') || permits(p, 'clients.manage');
      return {
        me,
        adminWorkspaces: ws.items,
        canReadUsers,
        canManageUsers: permits(p, 'users.manage'),
        canManageRoles: permits(p, 'roles.manage'),
        canReadAudit: permits(p, 'audit.read'),
        canManageWebhooks: permits(p, 'webhooks.manage'),
        canReadClients,
        canManageClients: permits(p, 'clients.manage'),
        mfaEnrolmentRequired: false,
        isConsoleUser: canReadUsers || canReadClients || ws.items.length > 0,
      };
    },
    staleTime: 60_000,
  });
  return { access: q.data, error: q.error, isPending: q.isPending };
}
