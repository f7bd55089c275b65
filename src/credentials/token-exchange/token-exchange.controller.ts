import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
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
  exchangeToken(@Body() body: TokenExchangeDto) {
    return this.exchange.exchange(body.subjectToken, body.provider);
  }
}
