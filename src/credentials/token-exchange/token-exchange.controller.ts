import { Body, Controller, Header, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public, SignInRateLimit } from '../../auth/auth.decorators.js';
import { TokenExchangeDto } from '../dto/credentials.dto.js';
import { TokenExchangeService } from './token-exchange.service.js';

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
