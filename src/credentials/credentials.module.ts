import { Module } from '@nestjs/common';
import { TenancyModule } from '#src/tenancy/tenancy.module.js';
import { UsersModule } from '#src/users/users.module.js';
import { ApiKeysController } from '#src/credentials/api-keys/api-keys.controller.js';
import { ApiKeysRepository } from '#src/credentials/api-keys/api-keys.repository.js';
import { ApiKeysService } from '#src/credentials/api-keys/api-keys.service.js';
import { AuthenticationsController } from '#src/credentials/authentications/authentications.controller.js';
import { AuthenticationsService } from '#src/credentials/authentications/authentications.service.js';
import { ExternalCredentialsRepository } from '#src/credentials/authentications/external-credentials.repository.js';
import { CryptoModule } from '#src/crypto/crypto.module.js';
import { FailureAudit } from '#src/credentials/failure-audit.js';
import { GrantsController } from '#src/credentials/grants/grants.controller.js';
import { GrantsRepository } from '#src/credentials/grants/grants.repository.js';
import { GrantsService } from '#src/credentials/grants/grants.service.js';
import { OAuthController, WellKnownController } from '#src/credentials/oauth/oauth.controller.js';
import { OAuthService } from '#src/credentials/oauth/oauth.service.js';
import { TokenExchangeController } from '#src/credentials/token-exchange/token-exchange.controller.js';
import { TokenExchangeService } from '#src/credentials/token-exchange/token-exchange.service.js';
import { AccessTokenRevocationsRepository } from '#src/credentials/tokens/access-token-revocations.repository.js';
import { AccessTokensService } from '#src/credentials/tokens/access-tokens.service.js';
import { SigningKeysRepository } from '#src/credentials/tokens/signing-keys.repository.js';
import { SigningKeysService } from '#src/credentials/tokens/signing-keys.service.js';

/** Credentials for services: API keys, grants and access tokens, token exchange, stored credentials. */
@Module({
  imports: [CryptoModule, UsersModule, TenancyModule],
  controllers: [
    ApiKeysController,
    GrantsController,
    OAuthController,
    WellKnownController,
    TokenExchangeController,
    AuthenticationsController,
  ],
  providers: [
    FailureAudit,
    ApiKeysRepository,
    ApiKeysService,
    GrantsRepository,
    GrantsService,
    SigningKeysRepository,
    SigningKeysService,
    AccessTokenRevocationsRepository,
    AccessTokensService,
    OAuthService,
    TokenExchangeService,
    ExternalCredentialsRepository,
    AuthenticationsService,
  ],
  exports: [AccessTokensService, SigningKeysService, TokenExchangeService],
})
export class CredentialsModule {}
