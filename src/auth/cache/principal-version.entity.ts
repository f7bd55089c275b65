import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One row: a counter bumped in the same transaction as every change to principal data (see
 * PRINCIPAL_TABLES) and every session revocation. Instances that cannot rely on Redis read it before
 * trusting their credential caches, and empty them when it moved.
 */
@Entity('principal_version')
export class PrincipalVersion {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'bigint' })
  version!: string;
}
