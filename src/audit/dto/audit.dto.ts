import { ApiProperty, IntersectionType } from '@nestjs/swagger';
import { PageQuery } from '#src/common/http/pagination.js';
import { DateTimeField, IdField, StringField } from '#src/common/validation.js';

/** The filters of the audit log (all optional, all combined with AND). */
export class AuditFilterQuery {
  @IdField({ optional: true, description: 'Entries made by this user' })
  actorId?: string;

  @StringField({
    optional: true,
    max: 32,
    pattern: /^[a-z][a-z0-9_.-]*$/,
    patternMessage: 'must be a target type such as user, project or workspace',
    description: 'Kind of thing changed: `user`, `project`, `workspace`, `group`, `role`, …',
  })
  targetType?: string;

  @StringField({ optional: true, max: 64, description: 'Id of the thing changed' })
  targetId?: string;

  @StringField({
    optional: true,
    max: 64,
    pattern: /^[a-z][a-z0-9_.-]*$/,
    patternMessage: 'must be an action such as user.update',
    description: 'Exact action, such as `user.update`',
  })
  action?: string;

  @DateTimeField({ optional: true, description: 'Entries at or after this time (ISO 8601)' })
  since?: string;

  @DateTimeField({ optional: true, description: 'Entries before this time (ISO 8601)' })
  until?: string;
}

/** The filters and a page (limit, default 50, max 500; cursor). */
export class AuditListQuery extends IntersectionType(AuditFilterQuery, PageQuery) {}

export class AuditLogEntryDto {
  @ApiProperty({ description: 'Position in the audit chain' }) seq!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: String, nullable: true }) actorId!: string | null;
  @ApiProperty({ example: 'user.update' }) action!: string;
  @ApiProperty({ example: 'user' }) targetType!: string;
  @ApiProperty() targetId!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) changes!: Record<string, unknown>;
  @ApiProperty({ description: 'Whether personal data was removed from this entry' })
  redacted!: boolean;
  @ApiProperty({ type: String, nullable: true, description: 'X-Request-Id of the change' })
  requestId!: string | null;
  @ApiProperty({ description: 'SHA-256 chain hash of this entry (hex)' }) hash!: string;
  @ApiProperty({ description: 'Chain hash of the entry before it (hex)' }) prevHash!: string;
}

export class AuditLogPage {
  @ApiProperty({ type: [AuditLogEntryDto] }) items!: AuditLogEntryDto[];
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  nextCursor!: string | null;
}

export class AuditChainHeadDto {
  @ApiProperty({ description: 'Seq of the newest entry when verification started' }) seq!: string;
  @ApiProperty({ description: 'Its chain hash' }) hash!: string;
}

export class AuditVerifyResponse {
  @ApiProperty({ description: 'Whether every link, hash and digest checked out' }) ok!: boolean;
  @ApiProperty({ description: 'Entries checked' }) checked!: number;
  @ApiProperty({ type: AuditChainHeadDto }) head!: AuditChainHeadDto;
  @ApiProperty({ required: false, description: 'Seq of the first entry that failed' })
  firstBadSeq?: string;
  @ApiProperty({ required: false, description: 'Why it failed' })
  reason?: string;
}
