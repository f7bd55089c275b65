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
  // Onto the fresh response, not `{ ...response, data }` (see withCredential in the kernel).
  return Object.assign(toUserResponse(user, roles), { data: { ...user.data } });
}

/** The detail made for each cached user row, with the role list it was made from. */
const ownDetails = new WeakMap<
  PrincipalUser,
  { roles: readonly string[]; detail: Readonly<UserDetailResponse> }
>();

/**
 * The detail of a principal's own user row, made once per row and role list: a cached credential
 * shares its user row and role names across requests (a change to either empties the caches, and
 * the next principal has new ones), so `GET /users/me`, the hottest read, does not copy the row and
 * format its dates for every request. Frozen: the same object answers every request of that row.
 */
export function ownUserDetail(user: PrincipalUser, roles: string[]): Readonly<UserDetailResponse> {
  const made = ownDetails.get(user);
  if (made?.roles === roles) return made.detail;
  const detail = toUserDetail(user, [...roles]);
  Object.freeze(detail.roles);
  Object.freeze(detail.data);
  ownDetails.set(user, { roles, detail: Object.freeze(detail) });
  return detail;
}
