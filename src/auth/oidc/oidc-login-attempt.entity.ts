import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';

/**
 * One browser sign-in attempt at an OpenID Connect provider: the state store of the hardened
 * passport-openidconnect wrapper. Kept in the database (every instance sees it), one row per attempt
 * (several tabs work), single use, expiring after about ten minutes. Only hashes of the `state`
 * parameter and of the browser-binding cookie are stored.
 */
@Entity('oidc_login_attempts')
@Index('UQ_oidc_attempt_state', ['stateHash'], { unique: true })
@Index('IDX_oidc_attempt_expires', ['expiresAt'])
export class OidcLoginAttempt {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 64, name: 'state_hash' })
  stateHash!: string;

  /** SHA-256 of the browser-binding cookie: a callback from another browser is refused. */
  @Column({ type: 'varchar', length: 64, name: 'binding_hash' })
  bindingHash!: string;

  @Column({ type: 'varchar', length: 64, name: 'provider_id' })
  providerId!: string;

  @Column({ type: 'varchar', length: 128 })
  nonce!: string;

  /** PKCE verifier, sent with the token request of this attempt only. */
  @Column({ type: 'varchar', length: 128, name: 'code_verifier' })
  codeVerifier!: string;

  @Column({ type: 'varchar', length: 512, name: 'return_to' })
  returnTo!: string;

  @CreatedAtColumn()
  createdAt!: Date;

  @DateColumn({ name: 'expires_at' })
  expiresAt!: Date;
}
