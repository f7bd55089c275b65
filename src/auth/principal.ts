import type { Request } from 'express';

export type ServerRole = 'admin' | 'user' | 'demo' | 'reader';
export const SERVER_ROLES: readonly ServerRole[] = ['admin', 'user', 'demo', 'reader'];

export type CredentialKind = 'session' | 'api_key' | 'access_token';

/** Who is calling, resolved once per request by the global guard. */
export interface Principal {
  userId: string;
  email: string;
  role: ServerRole;
  roles: string[];
  /** Effective server-level permissions (server role plus named roles). */
  permissions: string[];
  credential: {
    kind: CredentialKind;
    id: string;
    /** How the credential arrived: cookie-borne sessions need CSRF protection. */
    via: 'header' | 'cookie';
  };
  /** Scopes narrowing the owner's permissions (API keys); null when not narrowed. */
  scopes: string[] | null;
  /** Project permissions carried by a grant's access token; null when not narrowed. */
  projectPermissions: Record<string, string[]> | null;
}

export interface AuthenticatedRequest extends Request {
  principal?: Principal;
}
