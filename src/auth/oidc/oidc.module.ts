import { Module } from '@nestjs/common';
import { UsersModule } from '#src/users/users.module.js';
import { SignInPagesController } from '#src/auth/pages/sign-in-pages.controller.js';
import { MfaStepPagesController } from '#src/auth/pages/mfa-step-pages.controller.js';
import { SignInPagesService } from '#src/auth/pages/sign-in-pages.service.js';
import { UserTokensRepository } from '#src/auth/user-tokens.repository.js';
import { OidcController } from '#src/auth/oidc/oidc.controller.js';
import { OidcLinkingService } from '#src/auth/oidc/oidc-linking.service.js';
import { OidcSignInRepository } from '#src/auth/oidc/oidc-sign-in.repository.js';
import { OidcSignInService } from '#src/auth/oidc/oidc-sign-in.service.js';
import { UserIdentitiesRepository } from '#src/auth/oidc/user-identities.repository.js';

/**
 * Browser sign-in through OpenID Connect providers (hardened passport-openidconnect), account
 * linking, and the server-rendered sign-in pages. AuthModule is global: sessions, providers,
 * passwords and the auth service come from it.
 */
@Module({
  imports: [UsersModule],
  controllers: [OidcController, SignInPagesController, MfaStepPagesController],
  providers: [
    OidcSignInRepository,
    OidcSignInService,
    OidcLinkingService,
    SignInPagesService,
    UserTokensRepository,
    UserIdentitiesRepository,
  ],
  exports: [OidcLinkingService],
})
export class OidcModule {}
