import { Param, type PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { AppException } from '#src/common/errors/app.exception.js';
import { StringField } from '#src/common/validation.js';

/**
 * A group id: one we generate (a UUID) or one the creator chose (the seeds' `identifier`): 1 to 64
 * of letters, digits, `.`, `_` and `-`, but not `.` or `..` alone (a path segment a client or proxy
 * would resolve away). Every UUID has this shape, so one check serves both.
 */
export const GROUP_ID_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,64}$/;
export const GROUP_ID_MESSAGE = 'must be a group id (1 to 64 of A-Z a-z 0-9 . _ -)';

export function isGroupId(value: unknown): value is string {
  return typeof value === 'string' && GROUP_ID_PATTERN.test(value);
}

/** A group id from a request, else a 400 naming `name`, before any query. */
export function requireGroupId(value: string, name: string): string {
  if (!isGroupId(value)) throw AppException.invalid(name, GROUP_ID_MESSAGE);
  return value;
}

class ParseGroupIdPipe implements PipeTransform<string, string> {
  constructor(private readonly name: string) {}

  transform(value: string): string {
    return requireGroupId(value, this.name);
  }
}

/** A path parameter holding a group id (or, for project members, a user or group id). */
export function GroupIdParam(name: string, description = 'A group id'): ParameterDecorator {
  const param = Param(name, new ParseGroupIdPipe(name));
  const doc = ApiParam({
    name,
    schema: { type: 'string', minLength: 1, maxLength: 64, pattern: GROUP_ID_PATTERN.source },
    description,
  });
  return (target, key, index) => {
    param(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (descriptor) doc(target, key, descriptor);
  };
}

/** A body or query field holding a group id. */
export function GroupIdField(o: { optional?: boolean; description?: string } = {}) {
  return StringField({
    ...o,
    min: 1,
    max: 64,
    pattern: GROUP_ID_PATTERN,
    patternMessage: GROUP_ID_MESSAGE,
  });
}
