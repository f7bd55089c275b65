import { ApiProperty } from '@nestjs/swagger';
import { PageOf } from '#src/common/http/pagination.js';
import {
  DELIVERY_STATUSES,
  type DeliveryStatus,
} from '#src/webhooks/entities/webhook-delivery.entity.js';
import type {
  AttemptResponse,
  DeliveryResponse,
  WebhookResponse,
  WebhookSecretResponse,
} from '#src/webhooks/webhooks.service.js';

export class WebhookResponseDto implements WebhookResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() url!: string;
  @ApiProperty({ type: [String] }) events!: string[];
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'uuid',
    description: "Only this workspace's events; null: every event of the server",
  })
  workspaceId!: string | null;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'Until then the previous secret signs too (after a rotation)',
  })
  previousSecretExpiresAt!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class CreatedWebhookResponse extends WebhookResponseDto {
  @ApiProperty({ description: 'The signing secret (`whsec_…`), shown this once' })
  secret!: string;
}

export class WebhookSecretResponseDto implements WebhookSecretResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'The new signing secret (`whsec_…`), shown this once' })
  secret!: string;
  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'Until then the previous secret signs beside the new one',
  })
  previousSecretExpiresAt!: string | null;
}

export class WebhookPage extends PageOf(WebhookResponseDto) {}

export class AttemptResponseDto implements AttemptResponse {
  @ApiProperty() attempt!: number;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty() durationMs!: number;
  @ApiProperty({ type: Number, nullable: true }) statusCode!: number | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
  @ApiProperty() succeeded!: boolean;
}

export class DeliveryResponseDto implements DeliveryResponse {
  @ApiProperty({ format: 'uuid', description: 'Also the `webhook-id` header of every attempt' })
  id!: string;
  @ApiProperty({ description: "The audit entry's sequence number" }) eventSeq!: string;
  @ApiProperty() eventType!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status!: DeliveryStatus;
  @ApiProperty() attemptCount!: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) nextAttemptAt!: string | null;
  @ApiProperty({ type: Number, nullable: true }) lastStatusCode!: number | null;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) completedAt!: string | null;
  @ApiProperty({ type: [AttemptResponseDto] }) attempts!: AttemptResponseDto[];
}

export class DeliveryPage extends PageOf(DeliveryResponseDto) {}
