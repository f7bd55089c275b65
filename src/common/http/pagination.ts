import type { Type as ClassType } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { AppException } from '#src/common/errors/app.exception.js';
import { IntField, StringField } from '#src/common/validation.js';

export class PageQuery {
  @Type(() => Number)
  @IntField({ optional: true, min: 1, max: 500, description: 'Page size (default 50)' })
  limit?: number;

  @StringField({
    optional: true,
    min: 0,
    max: 500,
    description: 'Opaque cursor from a previous page',
  })
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * The response class of a paged list of `item`, named `<Item>Page` in the OpenAPI document:
 * `export class UserPage extends PageOf(UserResponseDto) {}`.
 */
export function PageOf<T>(item: ClassType<T>): ClassType<Page<T>> {
  class PageOfItems implements Page<T> {
    @ApiProperty({ type: [item] })
    items!: T[];

    @ApiProperty({
      type: String,
      nullable: true,
      description: 'Pass as `cursor` for the next page; null on the last page',
    })
    nextCursor!: string | null;
  }
  return PageOfItems;
}

/** Keyset cursors: an opaque base64url of the last row's sort key. */
export function encodeCursor(key: (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(
  cursor: string | undefined,
  arity: number,
): (string | number)[] | null {
  if (cursor === undefined) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(v) &&
      v.length === arity &&
      v.every((x) => typeof x === 'string' || typeof x === 'number')
    ) {
      return v;
    }
  } catch {
    // fall through
  }
  throw AppException.invalid('cursor', 'is not a valid cursor');
}

/** Builds a page from rows fetched with limit + 1. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  key: (r: R) => (string | number)[],
  map: (r: R) => T,
): Page<T> {
  const more = rows.length > limit;
  const slice = more ? rows.slice(0, limit) : rows;
  const last = slice[slice.length - 1];
  return {
    items: slice.map(map),
    nextCursor: more && last !== undefined ? encodeCursor(key(last)) : null,
  };
}
