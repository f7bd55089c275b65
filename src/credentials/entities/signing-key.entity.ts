import { Column, Entity, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, DateColumn } from '#src/database/columns.js';

/** A JWT signing key pair; `id` is the JWS `kid`. The private JWK is encrypted (AES-256-GCM). */
@Entity('signing_keys')
export class SigningKey {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  alg!: string;

  @Column({ type: 'text', name: 'public_jwk' })
  publicJwk!: string;

  @Column({ type: 'text', name: 'private_jwk_enc' })
  privateJwkEnc!: string;

  @Column({ type: 'varchar', length: 64, name: 'enc_key_id' })
  encKeyId!: string;

  @CreatedAtColumn()
  createdAt!: Date;

  /** When a newer key took over signing; still published until its last tokens expire. */
  @DateColumn({ name: 'retired_at', nullable: true })
  retiredAt!: Date | null;
}
