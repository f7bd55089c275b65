import type { PrincipalUser } from '#src/kernel/principal.js';

export interface UserResponse {
  id: string;
  email: string | null;
  username: string | null;
  fullName: string | null;
  role: string;
  roles: string[];
  status: string;
  emailVerified: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
}

/** The only shape a user leaves the service in: no hash, no lock-out counters. */
export function toUserResponse(user: PrincipalUser, roles: string[]): UserResponse {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    fullName: user.fullName,
    role: user.role,
    roles,
    status: user.status,
    emailVerified: user.emailVerified,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    version: user.version,
  };
}

export interface UserDetailResponse extends UserResponse {
  /** Custom key/values (the seeds' user data), merged by PATCH. */
  data: Record<string, unknown>;
}

export function toUserDetail(user: PrincipalUser, roles: string[]): UserDetailResponse {
  return { ...toUserResponse(user, roles), data: { ...user.data } };
}
