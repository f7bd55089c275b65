import { Body, Controller, Get, Header, HttpCode, Post, UseFilters } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import {
  JwksResponse,
  OAuthTokenRequest,
  TokenResponseDto,
} from '#src/credentials/dto/credentials.responses.js';
import { Public } from '#src/kernel/auth.decorators.js';
import { SignInRateLimit } from '#src/common/http/throttle.js';
import { OAuthErrorBody, OAuthErrorFilter } from '#src/credentials/oauth/oauth-error.js';
import { OAuthService } from '#src/credentials/oauth/oauth.service.js';

@ApiTags('oauth')
@Controller('oauth')
@UseFilters(OAuthErrorFilter)
export class OAuthController {
  constructor(private readonly oauth: OAuthService) {}

  @ApiOperation({
    operationId: 'requestToken',
    summary: 'grant_type=refresh_token: a rotated refresh token and a signed access token (JWT)',
    description:
      'Form or JSON body {grant_type, refresh_token, client_id?}. Errors follow RFC 6749 section 5.2: {error, error_description} with 400.',
  })
  @ApiExtraModels(OAuthTokenRequest, OAuthErrorBody)
  // One schema, in both encodings (the consumes list gives requestBody one entry per type).
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({ type: OAuthTokenRequest, required: true })
  @ApiOkResponse({ type: TokenResponseDto })
  @ApiResponse({
    status: 400,
    description: 'RFC 6749 error: invalid_request, invalid_grant or unsupported_grant_type',
    content: { 'application/json': { schema: { $ref: getSchemaPath(OAuthErrorBody) } } },
  })
  @ApiResponse({
    status: 401,
    description: 'RFC 6749 error: invalid_client',
    content: { 'application/json': { schema: { $ref: getSchemaPath(OAuthErrorBody) } } },
  })
  @ApiProblems(429)
  @Public()
  @SignInRateLimit()
  @Post('token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @Header('Pragma', 'no-cache')
  // OAuth clients send parameters this endpoint does not know (scope, resource): the body is read
  // by name in the service, not mass-assigned, so no DTO whitelist here.
  token(@Body() body: Record<string, unknown> | undefined): Promise<TokenResponseDto> {
    return this.oauth.token(body ?? {});
  }
}

/** Served without the /api/v1 prefix (bootstrap excludes `.well-known/*`). */
@ApiTags('oauth')
@Controller('.well-known')
@UseFilters(OAuthErrorFilter)
export class WellKnownController {
  constructor(private readonly oauth: OAuthService) {}

  @ApiOperation({
    operationId: 'getJwks',
    summary: 'Public keys to verify Gatehouse access tokens offline',
  })
  @ApiOkResponse({ type: JwksResponse })
  @Public()
  @Get('jwks.json')
  @Header('Cache-Control', 'public, max-age=300')
  // Public keys: any web origin may fetch them (as the provider's discovery document).
  @Header('Access-Control-Allow-Origin', '*')
  jwks(): Promise<JwksResponse> {
    return this.oauth.jwks();
  }
}
