import { Module } from '@nestjs/common';
import { AuthModule } from '#src/auth/auth.module.js';
import { CredentialsModule } from '#src/credentials/credentials.module.js';
import { UsersModule } from '#src/users/users.module.js';
import { ClientsController } from '#src/provider/clients/clients.controller.js';
import { ClientsService } from '#src/provider/clients/clients.service.js';
import { InteractionsController } from '#src/provider/interactions.controller.js';
import { OidcProviderService } from '#src/provider/oidc-provider.service.js';
import { OidcPayloadsRepository } from '#src/provider/oidc-payloads.repository.js';

/** Gatehouse as an OpenID Provider: oidc-provider, its client registry and interaction pages. */
@Module({
  imports: [UsersModule, AuthModule, CredentialsModule],
  controllers: [ClientsController, InteractionsController],
  providers: [OidcPayloadsRepository, ClientsService, OidcProviderService],
  exports: [OidcProviderService, ClientsService],
})
export class ProviderModule {}
