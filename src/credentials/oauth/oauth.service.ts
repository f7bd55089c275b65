import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '#src/config/config.js';
import { isWellFormedToken, sha256Hex, visiblePrefix } from '#src/crypto/tokens.js';
import { AuditService } from '#src/audit/audit.service.js';
import { Database } from '#src/database/database.service.js';
import type { Grant } from '#src/credentials/entities/grant.entity.js';
import { FailureAudit } from '#src/credentials/failure-audit.js';
import { GrantsRepository } from '#src/credentials/grants/grants.repository.js';
import { GrantsService, REFRESH_TOKEN_PREFIX } from '#src/credentials/grants/grants.service.js';
import { AccessTokensService } from '#src/credentials/tokens/access-tokens.service.js';
import { SigningKeysService } from '#src/credentials/tokens/signing-keys.service.js';
import { OAuthError } from '#src/credentials/oauth/oauth-error.js';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
}

type Refused = 'revoked' | 'expired' | 'client_mismatch' | 'owner_inactive' | 'reuse';

function param(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new OAuthError('invalid_request', `${name} must be a string`);
  return v;
}

/** The token endpoint (refresh_token grant) and the authorization-server metadata. */
@Injectable()
export class OAuthService {
  private readonly logger = new Logger('OAuth');

  constructor(
    private readonly config: AppConfig,
    private readonly db: Database,
    private readonly grants: GrantsService,
    private readonly repo: GrantsRepository,
    private readonly tokens: AccessTokensService,
    private readonly keys: SigningKeysService,
    private readonly audit: AuditService,
    private readonly failures: FailureAudit,
  ) {}

  jwks() {
    return this.keys.jwks();
  }

  async token(body: Record<string, unknown>): Promise<TokenResponse> {
    const grantType = param(body, 'grant_type');
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required');
    if (grantType !== 'refresh_token')
      throw new OAuthError('unsupported_grant_type', 'only grant_type=refresh_token is supported');
    const refresh = param(body, 'refresh_token');
    if (refresh === undefined) throw new OAuthError('invalid_request', 'refresh_token is required');
    const clientId = param(body, 'client_id');
    // Prefix and checksum first: a malformed token never reaches the database.
    if (!isWellFormedToken(refresh, REFRESH_TOKEN_PREFIX))
      throw new OAuthError('invalid_grant', 'the refresh token is invalid, expired or revoked');

    const now = new Date();
    const outcome = await this.db.transaction(
      async (tx): Promise<{ refused: Refused | 'unknown'; grant?: Grant } | TokenResponse> => {
        const found = await this.repo.findRefreshToken(tx, sha256Hex(refresh));
        if (!found) return { refused: 'unknown' };
        const { token, grant, user } = found;
        if (grant.revokedAt !== null) return { refused: 'revoked', grant };
        if (grant.expiresAt.getTime() <= now.getTime()) return { refused: 'expired', grant };
        if (grant.forClientId !== null && clientId !== grant.forClientId)
          return { refused: 'client_mismatch', grant };
        if (user.status !== 'active') return { refused: 'owner_inactive', grant };
        if (!(await this.repo.consumeRefreshToken(tx, token.id, now))) {
          // A rotated token came back: someone else holds a copy. End the whole family.
          await this.audit.record(tx, {
            actorId: null,
            action: 'grant.refresh_reuse',
            targetType: 'user',
            targetId: grant.userId,
            changes: { grantId: grant.id, reusedId: token.id },
          });
          await this.grants.revokeFamily(tx, grant, 'refresh_token_reuse');
          return { refused: 'reuse', grant };
        }
        const next = await this.grants.issueRefreshToken(tx, grant.id);
        await this.repo.markUsed(tx, grant.id, now);
        // Minted inside the transaction: if signing failed, the old token would stay unconsumed.
        const minted = await this.tokens.mint({
          userId: user.id,
          grant,
          audience: grant.forClientId,
        });
        return {
          access_token: minted.accessToken,
          token_type: 'Bearer',
          expires_in: minted.expiresIn,
          refresh_token: next,
        };
      },
    );
    if ('access_token' in outcome) return outcome;
    if (outcome.refused === 'unknown') {
      this.failures.unknown('refresh_token', visiblePrefix(refresh, REFRESH_TOKEN_PREFIX));
    } else if (outcome.grant && outcome.refused !== 'reuse') {
      await this.failures.record({
        action: 'grant.use_refused',
        userId: outcome.grant.userId,
        credentialId: outcome.grant.id,
        reason: outcome.refused,
      });
    } else {
      this.logger.warn({ msg: 'refresh token reuse: grant revoked', grantId: outcome.grant?.id });
    }
    throw new OAuthError('invalid_grant', 'the refresh token is invalid, expired or revoked');
  }
}
