import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { DateColumn } from '#src/database/columns.js';

/**
 * What the OpenID Provider stores (sessions, interactions, codes, grants, tokens), one row per
 * model and id. The payload is the library's JSON as given; the indexed columns are copied out of
 * it so the adapter can find and revoke by grant, user code and interaction uid.
 */
@Entity('oidc_payloads')
@Index('IDX_oidc_payload_grant', ['grantId'])
@Index('IDX_oidc_payload_user_code', ['userCode'])
@Index('IDX_oidc_payload_uid', ['uid'])
@Index('IDX_oidc_payload_client', ['clientId'])
@Index('IDX_oidc_payload_expires', ['expiresAt'])
export class OidcPayload {
  @PrimaryColumn({ type: 'varchar', length: 40 })
  model!: string;

  @PrimaryColumn({ type: 'varchar', length: 128 })
  id!: string;

  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'varchar', length: 128, name: 'grant_id', nullable: true })
  grantId!: string | null;

  @Column({ type: 'varchar', length: 128, name: 'user_code', nullable: true })
  userCode!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  uid!: string | null;

  @Column({ type: 'varchar', length: 36, name: 'client_id', nullable: true })
  clientId!: string | null;

  @Column({ type: 'varchar', length: 36, name: 'account_id', nullable: true })
  accountId!: string | null;

  @DateColumn({ name: 'expires_at', nullable: true })
  expiresAt!: Date | null;

  @DateColumn({ name: 'consumed_at', nullable: true })
  consumedAt!: Date | null;
}
