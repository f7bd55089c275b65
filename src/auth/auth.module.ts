import { Global, Module } from '@nestjs/common';
import { UsersModule } from '#src/users/users.module.js';
import { AuthController, OwnPasswordController } from '#src/auth/auth.controller.js';
import { AuthService } from '#src/auth/auth.service.js';
import { PrincipalChanges } from '#src/auth/cache/principal-changes.js';
import { PrincipalChangesRepository } from '#src/auth/cache/principal-changes.repository.js';
import { LoginMetrics } from '#src/auth/login-metrics.js';
import { BcryptMetrics } from '#src/auth/bcrypt-metrics.js';
import { CryptoModule } from '#src/crypto/crypto.module.js';
import { SessionsController } from '#src/auth/sessions/sessions.controller.js';
import { SessionsAdminService } from '#src/auth/sessions/sessions-admin.service.js';
import { SessionsRepository } from '#src/auth/sessions/sessions.repository.js';
import { SessionsService } from '#src/auth/sessions/sessions.service.js';
import { UserTokensRepository } from '#src/auth/user-tokens.repository.js';
import { OidcProvidersService } from '#src/auth/oidc/oidc-providers.service.js';
import { UserIdentitiesRepository } from '#src/auth/oidc/user-identities.repository.js';
import { LinkedIdentitiesService } from '#src/auth/oidc/linked-identities.service.js';
import { LinkTokensService } from '#src/auth/link-tokens.service.js';
import { MfaService } from '#src/auth/mfa/mfa.service.js';
import { MfaRepository } from '#src/auth/mfa/mfa.repository.js';
import { WebAuthnService } from '#src/auth/mfa/webauthn.service.js';
import { OwnMfaController, UserMfaController } from '#src/auth/mfa/mfa.controller.js';
import { BootstrapAdminService } from '#src/auth/bootstrap-admin.service.js';
import { ImpersonationController } from '#src/auth/sessions/impersonation.controller.js';
import { ImpersonationService } from '#src/auth/sessions/impersonation.service.js';

@Global()
@Module({
  imports: [UsersModule, CryptoModule],
  controllers: [
    AuthController,
    OwnPasswordController,
    SessionsController,
    OwnMfaController,
    UserMfaController,
    ImpersonationController,
  ],
  providers: [
    PrincipalChanges,
    PrincipalChangesRepository,
    AuthService,
    SessionsService,
    SessionsAdminService,
    SessionsRepository,
    UserTokensRepository,
    LoginMetrics,
    BcryptMetrics,
    OidcProvidersService,
    UserIdentitiesRepository,
    LinkedIdentitiesService,
    LinkTokensService,
    MfaService,
    MfaRepository,
    WebAuthnService,
    BootstrapAdminService,
    ImpersonationService,
  ],
  exports: [
    MfaService,
    BootstrapAdminService,
    PrincipalChanges,
    AuthService,
    SessionsService,
    CryptoModule,
    OidcProvidersService,
    LinkedIdentitiesService,
    LinkTokensService,
  ],
})
export class AuthModule {}
