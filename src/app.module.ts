import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AuditModule } from '#src/audit/audit.module.js';
import { AuthGuard } from '#src/kernel/auth.guard.js';
import { AuthModule } from '#src/auth/auth.module.js';
import { OidcModule } from '#src/auth/oidc/oidc.module.js';
import { PagesModule } from '#src/pages/pages.module.js';
import { ProblemFilter } from '#src/common/errors/problem.filter.js';
import { InputGuard } from '#src/common/http/input.guard.js';
import {
  SignInThrottler,
  SignInThrottlerGuard,
  throttlerModule,
} from '#src/common/http/throttle.js';
import { AppConfig } from '#src/config/config.js';
import { ConfigModule } from '#src/config/config.module.js';
import { ConsoleModule } from '#src/console/console.module.js';
import { CredentialsModule } from '#src/credentials/credentials.module.js';
import { DatabaseModule } from '#src/database/database.module.js';
import { HealthModule } from '#src/health/health.module.js';
import { MailModule } from '#src/mail/mail.module.js';
import { MetricsModule } from '#src/metrics/metrics.module.js';
import { TenancyModule } from '#src/tenancy/tenancy.module.js';
import { UserAdminModule } from '#src/user-admin/user-admin.module.js';
import { KernelModule } from '#src/kernel/kernel.module.js';
import { UsersModule } from '#src/users/users.module.js';
import { WebhooksModule } from '#src/webhooks/webhooks.module.js';
import { ScimModule } from '#src/scim/scim.module.js';
import { ProviderModule } from '#src/provider/provider.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        KernelModule,
        MetricsModule,
        AuditModule,
        MailModule,
        throttlerModule(),
        UsersModule,
        AuthModule,
        CredentialsModule,
        OidcModule,
        TenancyModule,
        UserAdminModule,
        ScimModule,
        HealthModule,
        WebhooksModule,
        PagesModule,
        ProviderModule,
        ConsoleModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ProblemFilter },
        SignInThrottler,
        // Order matters: the per-IP limit runs before authentication work.
        { provide: APP_GUARD, useClass: SignInThrottlerGuard },
        { provide: APP_GUARD, useClass: AuthGuard },
        // Before any resource rule or pipe reads the request: no unsafe input gets further.
        { provide: APP_GUARD, useClass: InputGuard },
      ],
    };
  }
}
