/** Stable error codes; the problem filter maps each to an HTTP status in one exhaustive switch. */
export type ErrorCode =
  | 'validation_failed'
  | 'unauthenticated'
  | 'forbidden'
  | 'csrf_failed'
  | 'not_found'
  | 'conflict'
  | 'rule_refused'
  | 'payload_too_large'
  | 'throttled'
  | 'unavailable'
  | 'client_gone';

export interface FieldError {
  field: string;
  message: string;
}

/**
 * The one exception services throw. Carries a stable code and a human detail; never a secret.
 */
export class AppException extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly extra?: Record<string, unknown>,
  ) {
    super(detail);
    this.name = 'AppException';
  }

  static invalid(field: string, message: string): AppException {
    return new AppException('validation_failed', `${field}: ${message}`, [{ field, message }]);
  }
  static unauthenticated(detail = 'Authentication required.'): AppException {
    return new AppException('unauthenticated', detail);
  }
  static forbidden(detail = 'You are not allowed to do this.'): AppException {
    return new AppException('forbidden', detail);
  }
  static notFound(what: string): AppException {
    return new AppException('not_found', `${what} not found.`);
  }
  static conflict(detail: string, field?: string): AppException {
    return new AppException('conflict', detail, field ? [{ field, message: detail }] : undefined);
  }
  static rule(rule: string, detail: string, field?: string): AppException {
    return new AppException(
      'rule_refused',
      detail,
      field ? [{ field, message: detail }] : undefined,
      { rule },
    );
  }
}
