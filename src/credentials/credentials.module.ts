import { Module } from '@nestjs/common';
import { ProjectsModule } from '../projects/projects.module.js';
import { ProjectsService } from '../projects/projects.service.js';
import { UsersModule } from '../users/users.module.js';
import { ApiKeysController } from './api-keys/api-keys.controller.js';
import { ApiKeysRepository } from './api-keys/api-keys.repository.js';
import { ApiKeysService } from './api-keys/api-keys.service.js';
import { AuthenticationsController } from './authentications/authentications.controller.js';
import { AuthenticationsService } from './authentications/authentications.service.js';
import { ExternalCredentialsRepository } from './authentications/external-credentials.repository.js';
import { SecretBox } from './crypto/secret-box.js';
import { FailureAudit } from './failure-audit.js';
import { GrantsController } from './grants/grants.controller.js';
import { GrantsRepository } from './grants/grants.repository.js';
import { GrantsService } from './grants/grants.service.js';
import { OAuthController, WellKnownController } from './oauth/oauth.controller.js';
import { OAuthService } from './oauth/oauth.service.js';
import { PROJECT_PERMISSIONS } from './project-permissions.js';
import { TokenExchangeController } from './token-exchange/token-exchange.controller.js';
import { TokenExchangeService } from './token-exchange/token-exchange.service.js';
import { AccessTokenRevocationsRepository } from './tokens/access-token-revocations.repository.js';
import { AccessTokensService } from './tokens/access-tokens.service.js';
import { SigningKeysRepository } from './tokens/signing-keys.repository.js';
import { SigningKeysService } from './tokens/signing-keys.service.js';

/** Credentials for services: API keys, grants and access tokens, token exchange, stored credentials. */
@Module({
  imports: [UsersModule, ProjectsModule],
  controllers: [
    ApiKeysController,
    GrantsController,
    OAuthController,
    WellKnownController,
    TokenExchangeController,
    AuthenticationsController,
  ],
  providers: [
    SecretBox,
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
    // Keys and grants shrink with their owner: project permissions come from the projects module.
    { provide: PROJECT_PERMISSIONS, useExisting: ProjectsService },
  ],
  exports: [SecretBox, AccessTokensService, SigningKeysService],
})
export class CredentialsModule {}
