import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiProblems } from '#src/common/http/api-problems.js';
import { IdParam } from '#src/common/http/id-param.js';
import { Authenticated, CurrentPrincipal } from '#src/kernel/auth.decorators.js';
import type { Principal } from '#src/kernel/principal.js';
import { WorkspaceAccess } from '#src/tenancy/access/access.decorators.js';
import {
  CreateWebhookDto,
  ListDeliveriesQuery,
  ListWebhooksQuery,
  UpdateWebhookDto,
} from '#src/webhooks/dto/webhook.dto.js';
import {
  CreatedWebhookResponse,
  DeliveryPage,
  DeliveryResponseDto,
  WebhookPage,
  WebhookResponseDto,
  WebhookSecretResponseDto,
} from '#src/webhooks/dto/webhook.responses.js';
import { WebhooksService } from '#src/webhooks/webhooks.service.js';

// Who may: `webhooks.manage` for every endpoint; a workspace's admins for the endpoints scoped to
// their workspace (checked by the service on each endpoint; 404 for one the caller may not manage).
@ApiTags('webhooks')
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @WorkspaceAccess('admin', 'workspace', 'body')
  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Create a webhook endpoint (the signing secret is shown once)',
  })
  @ApiCreatedResponse({ type: CreatedWebhookResponse })
  @ApiProblems(400, 401, 403, 404)
  create(
    @CurrentPrincipal() p: Principal,
    @Body() body: CreateWebhookDto,
  ): Promise<CreatedWebhookResponse> {
    return this.webhooks.create(p, body);
  }

  @WorkspaceAccess('admin', 'workspace', 'query')
  @Get()
  @ApiOperation({ operationId: 'listWebhooks', summary: 'Webhook endpoints (never the secrets)' })
  @ApiOkResponse({ type: WebhookPage })
  @ApiProblems(400, 401, 403, 404)
  list(@CurrentPrincipal() p: Principal, @Query() q: ListWebhooksQuery): Promise<WebhookPage> {
    return this.webhooks.list(p, q.workspace, q.limit ?? 50, q.cursor);
  }

  @Authenticated()
  @Get(':id')
  @ApiOperation({ operationId: 'getWebhook', summary: 'One webhook endpoint' })
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiProblems(400, 401, 404)
  get(@CurrentPrincipal() p: Principal, @IdParam('id') id: string): Promise<WebhookResponseDto> {
    return this.webhooks.get(p, id);
  }

  @Authenticated()
  @Patch(':id')
  @ApiOperation({ operationId: 'updateWebhook', summary: 'Change the URL, events, description' })
  @ApiOkResponse({ type: WebhookResponseDto })
  @ApiProblems(400, 401, 404)
  update(
    @CurrentPrincipal() p: Principal,
    @IdParam('id') id: string,
    @Body() body: UpdateWebhookDto,
  ): Promise<WebhookResponseDto> {
    return this.webhooks.update(p, id, body);
  }

  @Authenticated()
  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteWebhook', summary: 'Delete an endpoint and its deliveries' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 401, 404)
  async remove(@CurrentPrincipal() p: Principal, @IdParam('id') id: string): Promise<void> {
    await this.webhooks.remove(p, id);
  }

  @Authenticated()
  @Post(':id/secret')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'rotateWebhookSecret',
    summary: 'A new signing secret; the previous one keeps signing for 24 hours',
  })
  @ApiOkResponse({ type: WebhookSecretResponseDto })
  @ApiProblems(400, 401, 404)
  rotate(
    @CurrentPrincipal() p: Principal,
    @IdParam('id') id: string,
  ): Promise<WebhookSecretResponseDto> {
    return this.webhooks.rotateSecret(p, id);
  }

  @Authenticated()
  @Get(':id/deliveries')
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: 'Deliveries, newest first, each with its attempts',
  })
  @ApiOkResponse({ type: DeliveryPage })
  @ApiProblems(400, 401, 404)
  deliveries(
    @CurrentPrincipal() p: Principal,
    @IdParam('id') id: string,
    @Query() q: ListDeliveriesQuery,
  ): Promise<DeliveryPage> {
    return this.webhooks.listDeliveries(p, id, q.status, q.limit ?? 50, q.cursor);
  }

  @Authenticated()
  @Post(':id/deliveries/:deliveryId/retry')
  @HttpCode(200)
  @ApiOperation({ operationId: 'retryWebhookDelivery', summary: 'Send a delivery again now' })
  @ApiOkResponse({ type: DeliveryResponseDto })
  @ApiProblems(400, 401, 404, 409)
  retry(
    @CurrentPrincipal() p: Principal,
    @IdParam('id') id: string,
    @IdParam('deliveryId') deliveryId: string,
  ): Promise<DeliveryResponseDto> {
    return this.webhooks.retryDelivery(p, id, deliveryId);
  }
}
