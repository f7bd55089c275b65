import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CredentialRegistry } from '#src/kernel/credential-registry.js';
import { UserEventBus } from '#src/kernel/events.js';
import { MfaRequirements } from '#src/kernel/mfa-requirements.js';

/** What every feature stands on at run time: the declared credential resolvers and user events. */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [CredentialRegistry, UserEventBus, MfaRequirements],
  exports: [CredentialRegistry, UserEventBus, MfaRequirements],
})
export class KernelModule {}
