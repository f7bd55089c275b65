import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JWK,
  type JWTVerifyOptions,
  type JWTVerifyResult,
} from 'jose';
import { AppConfig } from '#src/config/config.js';
import { AuditService } from '#src/audit/audit.service.js';
import { Database } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { SecretBox, SecretBoxError } from '#src/crypto/secret-box.js';
import { SigningKey } from '#src/credentials/entities/signing-key.entity.js';
import { SigningKeysRepository } from '#src/credentials/tokens/signing-keys.repository.js';

export const SIGNING_ALG = 'ES256';
const CACHE_TTL_MS = 60_000;
const RELOAD_ON_MISS_MS = 5_000;
// Published beyond the token lifetime by this much: clock skew plus other instances' cache TTL.
const PUBLISH_MARGIN_MS = 5 * 60_000;

interface LoadedKey {
  row: SigningKey;
  publicJwk: JWK;
  publicKey: CryptoKey;
}

export interface ActiveKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
}

function aad(kid: string): string {
  return `signing_key:${kid}`;
}

/**
 * The JWT signer's key pairs, stored in the database (private half sealed with SecretBox) so every
 * instance signs and verifies with the same set. One active key signs; rotation retires it, and a
 * retired key stays published at /.well-known/jwks.json until every token it signed has expired.
 */
@Injectable()
export class SigningKeysService implements OnApplicationBootstrap {
  private readonly logger = new Logger('SigningKeys');
  private cache: { at: number; keys: LoadedKey[] } | null = null;
  private active: { at: number; key: ActiveKey } | null = null;
  private lastMissReload = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly db: Database,
    private readonly repo: SigningKeysRepository,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.activeKey();
  }

  private get publishWindowMs(): number {
    return this.config.accessTokenMinutes * 60_000 + PUBLISH_MARGIN_MS;
  }

  private async load(): Promise<LoadedKey[]> {
    const rows = await this.repo.listPublished(new Date(Date.now() - this.publishWindowMs));
    const keys = await Promise.all(
      rows.map(async (row) => {
        const publicJwk = JSON.parse(row.publicJwk) as JWK;
        return { row, publicJwk, publicKey: (await importJWK(publicJwk, row.alg)) as CryptoKey };
      }),
    );
    this.cache = { at: Date.now(), keys };
    return keys;
  }

  private async published(): Promise<LoadedKey[]> {
    if (this.cache && Date.now() - this.cache.at < CACHE_TTL_MS) return this.cache.keys;
    return this.load();
  }

  /** The key that signs now; made on first use, rotated when older than SIGNING_KEY_ROTATION_DAYS. */
  async activeKey(retried = false): Promise<ActiveKey> {
    if (this.active && Date.now() - this.active.at < CACHE_TTL_MS) return this.active.key;
    let current = (await this.load()).find((k) => k.row.retiredAt === null);
    const maxAge = this.config.signingKeyRotationDays * 86_400_000;
    if (!current || Date.now() - current.row.createdAt.getTime() > maxAge) {
      await this.rotate(current ? 'scheduled' : 'initial', current?.row.id ?? null);
      current = (await this.load()).find((k) => k.row.retiredAt === null);
      if (!current) throw new Error('no active signing key after rotation');
    }
    let jwk: JWK;
    try {
      jwk = JSON.parse(
        this.box.open(
          { keyId: current.row.encKeyId, ciphertext: current.row.privateJwkEnc },
          aad(current.row.id),
        ),
      ) as JWK;
    } catch (err) {
      if (!(err instanceof SecretBoxError) || retried) throw err;
      // Sealed under a key no longer configured (SECRET_KEY changed): sign with a fresh key; the
      // old public key stays published, so tokens it signed keep verifying until they expire.
      this.logger.warn({ msg: 'active signing key unreadable; rotating', kid: current.row.id });
      await this.rotate('unreadable', current.row.id);
      return this.activeKey(true);
    }
    const key = {
      kid: current.row.id,
      alg: current.row.alg,
      privateKey: (await importJWK(jwk, current.row.alg)) as CryptoKey,
    };
    this.active = { at: Date.now(), key };
    return key;
  }

  /**
   * Makes a new signing key and retires the current one (which stays published until its tokens
   * expire). `expectedActive` makes scheduled rotation idempotent across instances: when another
   * instance already rotated, nothing happens.
   */
  async rotate(
    reason: 'initial' | 'scheduled' | 'manual' | 'unreadable' = 'manual',
    expectedActive?: string | null,
  ): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
    const kid = newId();
    const now = new Date();
    const created = await this.db.transaction(async (tx) => {
      // The audit chain head's lock serialises rotations between instances.
      await this.audit.lockChain(tx);
      if (expectedActive !== undefined) {
        const live = (await this.repo.listPublished(now, tx)).find((k) => k.retiredAt === null);
        if ((live?.id ?? null) !== expectedActive) return null;
      }
      const sealed = this.box.seal(JSON.stringify(await exportJWK(privateKey)), aad(kid));
      const row = new SigningKey();
      row.id = kid;
      row.alg = SIGNING_ALG;
      row.publicJwk = JSON.stringify(await exportJWK(publicKey));
      row.privateJwkEnc = sealed.ciphertext;
      row.encKeyId = sealed.keyId;
      row.createdAt = now;
      row.retiredAt = null;
      const retired = await this.repo.retireActive(tx, now);
      await this.repo.insert(tx, row);
      await this.repo.deleteRetiredBefore(tx, new Date(now.getTime() - 2 * this.publishWindowMs));
      await this.audit.record(tx, {
        actorId: null,
        action: 'signing_key.rotate',
        targetType: 'signing_key',
        targetId: kid,
        changes: { alg: SIGNING_ALG, reason, retiredCount: retired },
      });
      return kid;
    });
    this.cache = null;
    this.active = null;
    if (created) this.logger.log({ msg: 'signing key rotated', kid, reason });
    return created ?? (await this.activeKey()).kid;
  }

  /** The public key for a token's `kid`, reloading once (rate-limited) when the kid is new to us. */
  async verificationKey(kid: string | undefined): Promise<CryptoKey | null> {
    if (!kid) return null;
    let found = (await this.published()).find((k) => k.row.id === kid);
    if (!found && Date.now() - this.lastMissReload > RELOAD_ON_MISS_MS) {
      this.lastMissReload = Date.now();
      found = (await this.load()).find((k) => k.row.id === kid);
    }
    return found?.publicKey ?? null;
  }

  /** Verifies a JWT we signed: the key its `kid` names, our algorithm, and the caller's checks. */
  verifyOurs(
    token: string,
    options: Omit<JWTVerifyOptions, 'algorithms'>,
  ): Promise<JWTVerifyResult> {
    return jwtVerify(
      token,
      async (header) => {
        const k = await this.verificationKey(header.kid);
        if (!k) throw new Error('unknown kid');
        return k;
      },
      { ...options, algorithms: [SIGNING_ALG] },
    );
  }

  /**
   * The private JWKs of every published key whose private half opens, the active one first: the
   * OpenID Provider signs with the first and publishes all (the same set as jwks()).
   */
  async signingJwks(): Promise<JWK[]> {
    const active = await this.activeKey();
    const keys = await this.published();
    const out: JWK[] = [];
    for (const k of keys) {
      try {
        const jwk = JSON.parse(
          this.box.open({ keyId: k.row.encKeyId, ciphertext: k.row.privateJwkEnc }, aad(k.row.id)),
        ) as JWK;
        out.push({ ...jwk, kid: k.row.id, alg: k.row.alg, use: 'sig' });
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
      }
    }
    return out.sort((a, b) => (a.kid === active.kid ? -1 : b.kid === active.kid ? 1 : 0));
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    const keys = await this.published();
    return {
      keys: keys.map((k) => ({ ...k.publicJwk, kid: k.row.id, alg: k.row.alg, use: 'sig' })),
    };
  }
}
