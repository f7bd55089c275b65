import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { FieldError } from '#src/common/errors/app.exception.js';
import type { Problem } from '#src/common/errors/problem.filter.js';

export class FieldErrorDto implements FieldError {
  @ApiProperty({ description: 'The field, query or path parameter at fault', example: 'email' })
  field!: string;

  @ApiProperty({ example: 'must be an email address' })
  message!: string;
}

/** The RFC 9457 body every error leaves as (application/problem+json), as ProblemFilter writes it. */
export class ProblemDetails implements Problem {
  [key: string]: unknown;

  @ApiProperty({
    description: 'A URI naming the kind of problem',
    example: 'https://gatehouse.dev/problems/validation-failed',
  })
  type!: string;

  @ApiProperty({ example: 'Invalid input' })
  title!: string;

  @ApiProperty({ type: 'integer', example: 400 })
  status!: number;

  @ApiProperty({ example: 'Invalid input: email must be an email address' })
  detail!: string;

  @ApiPropertyOptional({
    type: [FieldErrorDto],
    description: 'Every field error (400), or the field a conflict or rule is about (409, 422)',
  })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ description: 'The rule that refused the request (422)' })
  rule?: string;

  @ApiPropertyOptional({ description: 'Quote it when reporting an internal error (500)' })
  correlationId?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Readiness (503): which checks failed',
  })
  checks?: Record<string, unknown>;
}
