import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { ExchangedTokenDto } from '#src/credentials/dto/credentials.responses.js';
import { Public } from '#src/kernel/auth.decorators.js';
import { SignInRateLimit } from '#src/common/http/throttle.js';
import { TokenExchangeDto } from '#src/credentials/dto/credentials.dto.js';
import { TokenExchangeService } from '#src/credentials/token-exchange/token-exchange.service.js';

@ApiTags('auth')
@Controller('auth')
export class TokenExchangeController {
  constructor(private readonly exchange: TokenExchangeService) {}

  @Public()
  @SignInRateLimit()
  @Post('token-exchange')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'exchangeToken',
    summary: "Exchange a trusted provider's token for a Gatehouse access token",
  })
  @ApiOkResponse({ type: ExchangedTokenDto })
  @ApiProblems(400, 401, 429)
  exchangeToken(@Body() body: TokenExchangeDto): Promise<ExchangedTokenDto> {
    return this.exchange.exchange(body.subjectToken, body.provider);
  }
}
