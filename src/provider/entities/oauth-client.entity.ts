import { Column, Entity, PrimaryColumn } from 'typeorm';
import {
  CreatedAtColumn,
  JsonColumn,
  RowVersionColumn,
  UpdatedAtColumn,
} from '#src/database/columns.js';

export type TokenEndpointAuthMethod =
  'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';
export const TOKEN_ENDPOINT_AUTH_METHODS: readonly TokenEndpointAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'none',
];
export type ClientGrantType =
  | 'authorization_code'
  | 'refresh_token'
  | 'client_credentials'
  | 'urn:ietf:params:oauth:grant-type:token-exchange';
export const CLIENT_GRANT_TYPES: readonly ClientGrantType[] = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  // RFC 8693: the client may exchange a trusted provider's ID token, or one of ours, at the token endpoint.
  'urn:ietf:params:oauth:grant-type:token-exchange',
];

/** A registered OAuth client of Gatehouse's OpenID Provider. */
@Entity('oauth_clients')
export class OAuthClient {
  @PrimaryColumn({ type: 'varchar', length: 36, name: 'client_id' })
  clientId!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** SHA-256 (hex) of the secret; the secret itself is shown once and never stored. */
  @Column({ type: 'varchar', length: 64, name: 'secret_hash', nullable: true, select: false })
  secretHash?: string | null;

  @Column({ type: 'varchar', length: 32, name: 'token_endpoint_auth_method' })
  tokenEndpointAuthMethod!: TokenEndpointAuthMethod;

  @JsonColumn({ name: 'grant_types' })
  grantTypes!: ClientGrantType[];

  @JsonColumn({ name: 'redirect_uris' })
  redirectUris!: string[];

  @JsonColumn({ name: 'post_logout_redirect_uris' })
  postLogoutRedirectUris!: string[];

  @JsonColumn()
  scopes!: string[];

  @Column({ type: 'boolean', name: 'first_party', default: false })
  firstParty!: boolean;

  @JsonColumn({ name: 'allowed_origins' })
  allowedOrigins!: string[];

  @Column({ type: 'text', nullable: true })
  jwks!: string | null;

  @Column({ type: 'varchar', length: 512, name: 'jwks_uri', nullable: true })
  jwksUri!: string | null;

  /** The service account of a client with client_credentials (its id is the client id). */
  @Column({ type: 'varchar', length: 36, name: 'service_user_id', nullable: true })
  serviceUserId!: string | null;

  @CreatedAtColumn()
  createdAt!: Date;

  @UpdatedAtColumn()
  updatedAt!: Date;

  @RowVersionColumn()
  version!: number;
}
