import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Post,
  Query,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { PageQuery } from '#src/common/http/pagination.js';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { CreateApiKeyDto } from '#src/credentials/dto/credentials.dto.js';
import { ApiKeysService } from '#src/credentials/api-keys/api-keys.service.js';

@ApiTags('credentials')
@Controller('users/:id/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  // Minting needs a signed-in person: a key or token must not mint further credentials.
  @Authenticated({ permission: 'users.manage', self: 'id', credentials: ['session'] })
  @Post()
  @Header('Cache-Control', 'no-store')
  create(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Body() body: CreateApiKeyDto) {
    return this.keys.create(p, id, body);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Get()
  list(@CurrentPrincipal() p: Principal, @Param('id') id: string, @Query() q: PageQuery) {
    return this.keys.list(p, id, q.limit ?? 50, q.cursor);
  }

  @Authenticated({ permission: 'users.manage', self: 'id' })
  @Delete(':keyId')
  @HttpCode(204)
  async revoke(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('keyId') keyId: string,
  ): Promise<void> {
    await this.keys.revoke(p, id, keyId);
  }
}
