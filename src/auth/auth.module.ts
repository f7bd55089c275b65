import { Global, Module } from '@nestjs/common';
import { UsersModule } from '../users/users.module.js';
import { AuthController, OwnPasswordController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { CredentialRegistry } from './credential-registry.js';
import { PrincipalChanges } from './cache/principal-changes.js';
import { PrincipalChangesRepository } from './cache/principal-changes.repository.js';
import { LoginMetrics } from './login-metrics.js';
import { PasswordsModule } from './passwords/passwords.module.js';
import { SessionsController } from './sessions/sessions.controller.js';
import { SessionsAdminService } from './sessions/sessions-admin.service.js';
import { SessionsRepository } from './sessions/sessions.repository.js';
import { SessionsService } from './sessions/sessions.service.js';
import { UserTokensRepository } from './user-tokens.repository.js';
import { OidcProvidersService } from './oidc/oidc-providers.service.js';
import { UserIdentitiesRepository } from './oidc/user-identities.repository.js';

@Global()
@Module({
  imports: [UsersModule, PasswordsModule],
  controllers: [AuthController, OwnPasswordController, SessionsController],
  providers: [
    CredentialRegistry,
    PrincipalChanges,
    PrincipalChangesRepository,
    AuthService,
    SessionsService,
    SessionsAdminService,
    SessionsRepository,
    UserTokensRepository,
    LoginMetrics,
    OidcProvidersService,
    UserIdentitiesRepository,
  ],
  exports: [
    CredentialRegistry,
    PrincipalChanges,
    AuthService,
    SessionsService,
    PasswordsModule,
    OidcProvidersService,
    UserIdentitiesRepository,
  ],
})
export class AuthModule {}
