import { Module } from '@nestjs/common';
import { TenancyModule } from '#src/tenancy/tenancy.module.js';
import { PagesController } from '#src/pages/pages.controller.js';
import { PagesService } from '#src/pages/pages.service.js';

/**
 * The server-rendered pages for people (`/`, `/register`, `/forgot-password`, `/reset-password`,
 * `/activate`); the sign-in pages stay with auth. AuthModule is global.
 */
@Module({
  imports: [TenancyModule],
  controllers: [PagesController],
  providers: [PagesService],
})
export class PagesModule {}
