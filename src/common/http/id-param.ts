import { Param, type PipeTransform } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { AppException } from '#src/common/errors/app.exception.js';
import { isUuid } from '#src/database/ids.js';

/** A path id must look like one we issue: otherwise a 400 naming the parameter, before any query. */
export function requireId(value: string, name: string): string {
  if (!isUuid(value)) throw AppException.invalid(name, 'must be a UUID');
  return value;
}

export class ParseIdPipe implements PipeTransform<string, string> {
  constructor(
    private readonly name: string,
    private readonly allowMe = false,
  ) {}

  transform(value: string): string {
    if (this.allowMe && value === 'me') return value;
    if (this.allowMe && !isUuid(value))
      throw AppException.invalid(this.name, 'must be a UUID or `me`');
    return requireId(value, this.name);
  }
}

/**
 * A path parameter holding an id (`@IdParam('id')`), validated and documented as a UUID.
 * `allowMe` also accepts the literal `me` (the caller), as the /users routes do.
 */
export function IdParam(name: string, options: { allowMe?: boolean } = {}): ParameterDecorator {
  const allowMe = options.allowMe ?? false;
  const param = Param(name, new ParseIdPipe(name, allowMe));
  const doc = ApiParam({
    name,
    type: String,
    ...(allowMe ? { description: 'A user id (UUID), or `me` for the caller' } : { format: 'uuid' }),
  });
  return (target, key, index) => {
    param(target, key, index);
    if (key === undefined) return;
    const descriptor = Object.getOwnPropertyDescriptor(target, key);
    if (descriptor) doc(target, key, descriptor);
  };
}
