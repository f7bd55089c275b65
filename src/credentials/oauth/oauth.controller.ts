import { Body, Controller, Get, Header, HttpCode, Post, UseFilters } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '#src/kernel/auth.decorators.js';
import { SignInRateLimit } from '#src/common/http/throttle.js';
import { OAuthErrorFilter } from '#src/credentials/oauth/oauth-error.js';
import { OAuthService } from '#src/credentials/oauth/oauth.service.js';

@ApiTags('oauth')
@Controller('oauth')
@UseFilters(OAuthErrorFilter)
export class OAuthController {
  constructor(private readonly oauth: OAuthService) {}

  @ApiOperation({
    summary: 'grant_type=refresh_token: a rotated refresh token and a signed access token (JWT)',
    description:
      'Form or JSON body {grant_type, refresh_token, client_id?}. Errors follow RFC 6749 section 5.2: {error, error_description} with 400.',
  })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @Public()
  @SignInRateLimit()
  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  // OAuth clients send parameters this endpoint does not know (scope, resource): the body is read
  // by name in the service, not mass-assigned, so no DTO whitelist here.
  token(@Body() body: Record<string, unknown> | undefined) {
    return this.oauth.token(body ?? {});
  }
}

/** Served without the /api/v1 prefix (bootstrap excludes `.well-known/*`). */
@ApiTags('oauth')
@Controller('.well-known')
@UseFilters(OAuthErrorFilter)
export class WellKnownController {
  constructor(private readonly oauth: OAuthService) {}

  @ApiOperation({ summary: 'Public keys to verify Gatehouse access tokens offline' })
  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  jwks() {
    return this.oauth.jwks();
  }

  @ApiOperation({ summary: 'OAuth 2.0 authorization server metadata (RFC 8414)' })
  @Public()
  @Get('oauth-authorization-server')
  @Header('Cache-Control', 'public, max-age=300')
  metadata() {
    return this.oauth.metadata();
  }
}
