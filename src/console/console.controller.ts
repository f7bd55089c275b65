import { paramsOf } from '#src/common/http/request.js';
import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiHtml, ApiRedirect } from '#src/common/http/api-problems.js';
import { Public } from '#src/kernel/auth.decorators.js';
import { ConsoleFiles } from '#src/console/console-files.js';
import { ConsoleSession } from '#src/console/console-session.js';

/**
 * The console (`/console`, `/console/*`) and the self-service account page (`/account`): one
 * single-page app built by Vite into `dist/console`. Every path answers its `index.html` (the app
 * routes on the client); `/console/assets/*` are the hashed build files, cached for a year.
 * Signed-out visitors are sent to `/signin?returnTo=…`. The app itself only calls `/api/v1`.
 */
@ApiTags('pages')
@ApiProduces('text/html')
@Controller()
export class ConsoleController {
  constructor(
    private readonly files: ConsoleFiles,
    private readonly session: ConsoleSession,
  ) {}

  @Public()
  @Get('console')
  @ApiOperation({ operationId: 'showConsole', summary: 'The admin console (single-page app)' })
  @ApiHtml(200, 'The console app')
  @ApiRedirect(302, 'Signed out: to the sign-in page')
  async console(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    await this.app(req, res);
  }

  @Public()
  @Get('console/*')
  @ApiOperation({
    operationId: 'showConsolePath',
    summary: 'A console screen (the same app), or one of its hashed asset files',
  })
  @ApiParam({ name: 'path', type: String, description: 'The screen or asset path below /console' })
  @ApiHtml(200, 'The console app, or an asset file')
  @ApiRedirect(302, 'Signed out: to the sign-in page')
  @ApiHtml(404, 'No such asset file')
  async consolePath(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    // Fastify's wildcard parameter (the OpenAPI document names it `path`).
    const parts = (paramsOf(req)['*'] ?? '').split('/');
    if (parts[0] === 'assets') {
      this.files.sendAsset(res, parts.slice(1).join('/'));
      return;
    }
    await this.app(req, res);
  }

  @Public()
  @Get('account')
  @ApiOperation({ operationId: 'showAccount', summary: 'The self-service account page' })
  @ApiHtml(200, 'The account app')
  @ApiRedirect(302, 'Signed out: to the sign-in page')
  async account(@Req() req: FastifyRequest, @Res() res: FastifyReply): Promise<void> {
    await this.app(req, res);
  }

  private async app(req: FastifyRequest, res: FastifyReply): Promise<void> {
    if (!(await this.session.signedIn(req))) {
      res
        .header('Cache-Control', 'no-store')
        .redirect(`/signin?returnTo=${encodeURIComponent(req.originalUrl)}`, 302);
      return;
    }
    this.files.sendIndex(res);
  }
}
