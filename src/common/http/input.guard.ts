import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppException } from '#src/common/errors/app.exception.js';
import { findUnsafeInput } from '#src/common/input.js';

/**
 * Every route, before any pipe, DTO or resource rule reads the request: the parsed body (JSON or
 * form), the query string and the path parameters must pass `findUnsafeInput`, else a 400 naming
 * the field. Registered globally right after authentication.
 */
@Injectable()
export class InputGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const problem =
      findUnsafeInput(req.params) ?? findUnsafeInput(req.query) ?? findUnsafeInput(req.body);
    if (problem) {
      throw new AppException(
        'validation_failed',
        `Invalid input: ${problem.field} ${problem.message}`,
        [problem],
      );
    }
    return true;
  }
}
