import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDetails } from '#src/common/http/problem.dto.js';

export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 503;

const DESCRIPTIONS: Record<ProblemStatus, string> = {
  400: 'Invalid input: every field at fault is listed in `errors`',
  401: 'Not authenticated',
  403: 'Authenticated but not allowed',
  404: 'Not found, or not visible to the caller',
  409: 'Conflict with the current state (duplicate name or email, concurrent change)',
  413: 'The request body exceeds 100 KiB',
  422: 'Refused by a rule (`rule` names it)',
  429: 'Too many requests; retry after `Retry-After` seconds',
  503: 'A dependency is unavailable; retry later',
};

/** Declares the problem+json answers a route can give, e.g. `@ApiProblems(400, 401, 404)`. */
export function ApiProblems(...statuses: ProblemStatus[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDetails),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status],
        ...(status === 429
          ? {
              headers: {
                'Retry-After': {
                  description: 'Seconds to wait before retrying',
                  schema: { type: 'integer' },
                },
              },
            }
          : {}),
        content: {
          'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetails) } },
        },
      }),
    ),
  );
}

/** A server-rendered HTML answer (sign-in pages and their error pages). */
export function ApiHtml(status: number, description: string): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status,
    description,
    content: { 'text/html': { schema: { type: 'string' } } },
  });
}

/** A redirect, with where it goes. */
export function ApiRedirect(
  status: 302 | 303,
  description: string,
): MethodDecorator & ClassDecorator {
  return ApiResponse({
    status,
    description,
    headers: { Location: { description: 'Where to go next', schema: { type: 'string' } } },
  });
}
