import { Module } from '@nestjs/common';
import { UsersModule } from '../../users/users.module.js';
import { SignInPagesController } from '../pages/sign-in-pages.controller.js';
import { SignInPagesService } from '../pages/sign-in-pages.service.js';
import { UserTokensRepository } from '../user-tokens.repository.js';
import { OidcController } from './oidc.controller.js';
import { OidcLinkingService } from './oidc-linking.service.js';
import { OidcSignInRepository } from './oidc-sign-in.repository.js';
import { OidcSignInService } from './oidc-sign-in.service.js';

/**
 * Browser sign-in through OpenID Connect providers (hardened passport-openidconnect), account
 * linking, and the server-rendered sign-in pages. AuthModule is global: sessions, providers,
 * identities, passwords and the auth service come from it.
 */
@Module({
  imports: [UsersModule],
  controllers: [OidcController, SignInPagesController],
  providers: [
    OidcSignInRepository,
    OidcSignInService,
    OidcLinkingService,
    SignInPagesService,
    UserTokensRepository,
  ],
  exports: [OidcLinkingService],
})
export class OidcModule {}
