import { PageQuery } from '#src/common/http/pagination.js';
import { BooleanField, EnumField, StringArrayField, StringField } from '#src/common/validation.js';
import {
  DELIVERY_STATUSES,
  type DeliveryStatus,
} from '#src/webhooks/entities/webhook-delivery.entity.js';

const EVENTS_DOC =
  'Audit actions (`user.update`), prefixes (`user.*`) or `*`; see docs/webhooks.md for the list';

export class CreateWebhookDto {
  @StringField({ max: 2048, description: 'https URL receiving the events (public address)' })
  url!: string;

  @StringArrayField({ maxItems: 100, itemMax: 64, description: EVENTS_DOC })
  events!: string[];

  @StringField({
    max: 64,
    optional: true,
    description: "A workspace's domain: only that workspace's events (its admins may manage it)",
  })
  workspace?: string;

  @StringField({ max: 500, optional: true })
  description?: string;
}

export class UpdateWebhookDto {
  @StringField({ max: 2048, optional: true })
  url?: string;

  @StringArrayField({ maxItems: 100, itemMax: 64, optional: true, description: EVENTS_DOC })
  events?: string[];

  @StringField({ max: 500, optional: true, nullable: true, description: 'null clears it' })
  description?: string | null;

  @BooleanField({ optional: true, description: 'false pauses deliveries (events are skipped)' })
  enabled?: boolean;
}

export class ListWebhooksQuery extends PageQuery {
  @StringField({
    max: 64,
    optional: true,
    description:
      "A workspace's domain: that workspace's endpoints (needed without webhooks.manage)",
  })
  workspace?: string;
}

export class ListDeliveriesQuery extends PageQuery {
  @EnumField(DELIVERY_STATUSES, { optional: true })
  status?: DeliveryStatus;
}
