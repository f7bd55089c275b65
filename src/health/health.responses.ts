import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';

export class LivenessResponse {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

function checks(description: string): ApiPropertyOptions {
  return {
    type: 'object',
    additionalProperties: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['up', 'down'] } },
      additionalProperties: true,
    },
    example: { database: { status: 'up' } },
    description,
  };
}

/** Terminus' health check result: each check by name, with its status. */
export class ReadinessResponse {
  @ApiProperty({ enum: ['ok'] }) status!: string;
  @ApiPropertyOptional(checks('Checks that are up'))
  info?: Record<string, unknown>;
  @ApiPropertyOptional(checks('Checks that are down'))
  error?: Record<string, unknown>;
  @ApiProperty(checks('Every check')) details!: Record<string, unknown>;
}
