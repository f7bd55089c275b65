import { Injectable, Logger } from '@nestjs/common';
import { AppException } from '#src/common/errors/app.exception.js';
import type { Page } from '#src/common/http/pagination.js';
import { decodeCursor, encodeCursor } from '#src/common/http/pagination.js';
import { AuditService } from '#src/audit/audit.service.js';
import type { UserIdentity } from '#src/auth/entities/user-identity.entity.js';
import { OidcProvidersService } from '#src/auth/oidc/oidc-providers.service.js';
import { LinkedIdentitiesService } from '#src/auth/oidc/linked-identities.service.js';
import type { Principal } from '#src/kernel/principal.js';
import { Database, isUniqueViolation } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { UsersService } from '#src/users/users.service.js';
import { SecretBox, SecretBoxError } from '#src/crypto/secret-box.js';
import { ExternalCredential } from '#src/credentials/entities/external-credential.entity.js';
import { assertMayMint, ownerId } from '#src/credentials/owner.js';
import { ExternalCredentialsRepository } from '#src/credentials/authentications/external-credentials.repository.js';
import { MfaService } from '#src/auth/mfa/mfa.service.js';

export const MASK = '********';
const SERVICE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface LinkedIdentityResponse {
  kind: 'oidc';
  service: string;
  providerName: string | null;
  issuer: string;
  subject: string;
  email: string | null;
  linkedAt: string;
  lastUsedAt: string | null;
}

export interface StoredCredentialResponse {
  kind: 'credential';
  service: string;
  serviceUser: string;
  displayName: string | null;
  /** The secrets in clear only on the owner's own read of one service; masked otherwise. */
  accessToken: string;
  accessSecret: string | null;
  accessTokenExpires: string | null;
  accessSecretExpires: string | null;
  secretsMasked: boolean;
  createdAt: string;
  updatedAt: string;
}

export type AuthenticationResponse = LinkedIdentityResponse | StoredCredentialResponse;

export interface StoredCredentialInput {
  serviceUser: string;
  accessToken: string;
  accessSecret?: string;
  displayName?: string;
  accessTokenExpires?: string;
  accessSecretExpires?: string;
}

interface Secrets {
  accessToken: string;
  accessSecret: string | null;
}

/** The ciphertext is bound to its row's identity: moved to another user or service, it fails. */
function aad(userId: string, service: string): string {
  return `external_credential:${userId}:${service}`;
}

function optionalDate(field: string, v: string | undefined): Date | null {
  if (v === undefined) return null;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw AppException.invalid(field, 'must be an ISO 8601 date-time');
  return d;
}

/**
 * A user's ways to authenticate elsewhere: linked OIDC identities (read and unlink) and stored
 * credentials for external services (AES-256-GCM at rest, masked except for the owner's own read).
 */
@Injectable()
export class AuthenticationsService {
  private readonly logger = new Logger('Authentications');

  constructor(
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly identities: LinkedIdentitiesService,
    private readonly oidc: OidcProvidersService,
    private readonly repo: ExternalCredentialsRepository,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
    private readonly mfa: MfaService,
  ) {}

  private identityView(i: UserIdentity): LinkedIdentityResponse {
    return {
      kind: 'oidc',
      service: i.providerId,
      providerName: this.oidc.find(i.providerId)?.name ?? null,
      issuer: i.issuer,
      subject: i.subject,
      email: i.email,
      linkedAt: i.createdAt.toISOString(),
      lastUsedAt: i.lastUsedAt?.toISOString() ?? null,
    };
  }

  private credentialView(c: ExternalCredential, secrets: Secrets | null): StoredCredentialResponse {
    return {
      kind: 'credential',
      service: c.service,
      serviceUser: c.serviceUser,
      displayName: c.displayName,
      accessToken: secrets ? secrets.accessToken : MASK,
      accessSecret: secrets ? secrets.accessSecret : c.hasAccessSecret ? MASK : null,
      accessTokenExpires: c.accessTokenExpires?.toISOString() ?? null,
      accessSecretExpires: c.accessSecretExpires?.toISOString() ?? null,
      secretsMasked: secrets === null,
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
    };
  }

  private checkService(service: string): void {
    if (!SERVICE_PATTERN.test(service))
      throw AppException.invalid(
        'service',
        'must be 1-64 letters, digits, dots, dashes or underscores',
      );
  }

  /** Identities and credentials together, ordered by service; a user has few, the cursor is the last service. */
  async list(
    p: Principal,
    id: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<AuthenticationResponse>> {
    const userId = ownerId(p, id);
    await this.users.requireUser(userId);
    const after = decodeCursor(cursor, 1)?.[0];
    const [identities, creds] = await Promise.all([
      this.identities.listForUser(userId),
      this.repo.listForUser(userId),
    ]);
    const all: AuthenticationResponse[] = [
      ...identities.map((i) => this.identityView(i)),
      ...creds.map((c) => this.credentialView(c, null)),
    ]
      .sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0))
      .filter((a) => after === undefined || a.service > String(after));
    const items = all.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: all.length > limit && last ? encodeCursor([last.service]) : null,
    };
  }

  async get(p: Principal, id: string, service: string): Promise<AuthenticationResponse> {
    const userId = ownerId(p, id);
    await this.users.requireUser(userId);
    const identity = (await this.identities.listForUser(userId)).find(
      (i) => i.providerId === service,
    );
    if (identity) return this.identityView(identity);
    const cred = await this.repo.findForUser(userId, service);
    if (!cred) throw AppException.notFound('Authentication');
    // Only the owner's explicit read of one service returns the secrets; an admin's never does.
    return this.credentialView(cred, p.userId === userId ? this.open(cred) : null);
  }

  private open(c: ExternalCredential): Secrets {
    try {
      return JSON.parse(
        this.box.open({ keyId: c.keyId, ciphertext: c.ciphertext }, aad(c.userId, c.service)),
      ) as Secrets;
    } catch (err) {
      if (err instanceof SecretBoxError && err.reason === 'unknown_key') {
        throw new AppException(
          'unavailable',
          `The key that encrypted this credential (${c.keyId}) is not configured.`,
        );
      }
      this.logger.error({ msg: 'stored credential failed to decrypt', credentialId: c.id });
      throw new Error('stored credential failed authentication');
    }
  }

  async put(
    p: Principal,
    id: string,
    service: string,
    input: StoredCredentialInput,
  ): Promise<StoredCredentialResponse> {
    this.checkService(service);
    const userId = ownerId(p, id);
    // Storing a credential is a write: reader and demo users (no credentials.create) are refused.
    assertMayMint(p, userId);
    await this.users.requireUser(userId);
    const reserved =
      this.oidc.find(service) !== undefined ||
      (await this.identities.listForUser(userId)).some((i) => i.providerId === service);
    if (reserved) {
      throw AppException.rule(
        'service_reserved',
        `${service} names an identity provider; linked identities are not stored credentials.`,
        'service',
      );
    }
    const accessTokenExpires = optionalDate('accessTokenExpires', input.accessTokenExpires);
    const accessSecretExpires = optionalDate('accessSecretExpires', input.accessSecretExpires);
    const secrets: Secrets = {
      accessToken: input.accessToken,
      accessSecret: input.accessSecret ?? null,
    };
    const sealed = this.box.seal(JSON.stringify(secrets), aad(userId, service));
    const now = new Date();
    const fields = {
      serviceUser: input.serviceUser,
      displayName: input.displayName ?? null,
      accessTokenExpires,
      accessSecretExpires,
      hasAccessSecret: secrets.accessSecret !== null,
      ciphertext: sealed.ciphertext,
      keyId: sealed.keyId,
      updatedAt: now,
    };
    try {
      const row = await this.db.transaction(async (tx) => {
        const existing = await this.repo.findForUser(userId, service, tx);
        let saved: ExternalCredential;
        if (existing) {
          await this.repo.update(tx, existing.id, fields);
          saved = Object.assign(existing, fields);
        } else {
          saved = Object.assign(new ExternalCredential(), {
            id: newId(),
            userId,
            service,
            createdAt: now,
            ...fields,
          });
          await this.repo.insert(tx, saved);
        }
        await this.audit.record(tx, {
          actorId: p.userId,
          action: existing ? 'external_credential.update' : 'external_credential.create',
          targetType: 'user',
          targetId: userId,
          changes: {
            service,
            serviceUser: input.serviceUser,
            displayName: fields.displayName,
            encryptionKeyId: sealed.keyId,
          },
        });
        return saved;
      });
      return this.credentialView(row, null);
    } catch (err) {
      if (isUniqueViolation(err))
        throw AppException.conflict('This credential was stored concurrently; retry.', 'service');
      throw err;
    }
  }

  /** Unlinks an identity (not the last way to sign in: 422) or deletes a stored credential. */
  async remove(p: Principal, id: string, service: string): Promise<void> {
    const userId = ownerId(p, id);
    await this.users.requireUser(userId);
    // Unlinking one's own sign-in method: a recent sign-in first.
    if (
      userId === p.userId &&
      (await this.identities.listForUser(userId)).some((i) => i.providerId === service)
    )
      await this.mfa.requireRecentSignIn(p);
    await this.db.transaction(async (tx) => {
      // The user row lock serialises two unlinks racing to remove the last two sign-in methods.
      await this.users.lockForUpdate(tx, userId);
      const identities = await this.identities.listForUser(userId, tx);
      const identity = identities.find((i) => i.providerId === service);
      if (identity) {
        const withHash = await this.users.findByIdWithPasswordHash(userId, tx);
        if (!withHash?.passwordHash && identities.length === 1) {
          throw AppException.rule(
            'last_sign_in_method',
            'This is the last way to sign in to the account: set a password or link another identity first.',
            'service',
          );
        }
        await this.identities.unlink(tx, identity.id);
        await this.audit.record(tx, {
          actorId: p.userId,
          action: 'identity.unlink',
          targetType: 'user',
          targetId: userId,
          changes: {
            provider: identity.providerId,
            issuer: identity.issuer,
            subject: identity.subject,
          },
        });
        return;
      }
      const cred = await this.repo.findForUser(userId, service, tx);
      if (!cred) throw AppException.notFound('Authentication');
      await this.repo.delete(tx, cred.id);
      await this.audit.record(tx, {
        actorId: p.userId,
        action: 'external_credential.delete',
        targetType: 'user',
        targetId: userId,
        changes: { service },
      });
    });
  }
}
