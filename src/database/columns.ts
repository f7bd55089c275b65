import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { Column, VersionColumn, type ColumnOptions } from 'typeorm';

// One schema on two databases: datetime(3) on MySQL, text-compatible datetime on SQLite.
const dateType: ColumnOptions = { type: 'datetime', precision: 3 };

export function DateColumn(options: ColumnOptions = {}): PropertyDecorator {
  return Column({ ...dateType, ...options });
}

// Timestamps are set by the code (no database default: the two dialects spell "now(3)" differently).
export function CreatedAtColumn(): PropertyDecorator {
  return Column({ ...dateType, name: 'created_at' });
}

export function UpdatedAtColumn(): PropertyDecorator {
  return Column({ ...dateType, name: 'updated_at' });
}

export function RowVersionColumn(): PropertyDecorator {
  return VersionColumn({ default: 1 });
}

export function IdColumn(name?: string, options: ColumnOptions = {}): PropertyDecorator {
  return Column({ type: 'varchar', length: 36, ...(name ? { name } : {}), ...options });
}

export function JsonColumn(options: ColumnOptions = {}): PropertyDecorator {
  return Column({ type: 'simple-json', ...options });
}

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/**
 * Entities carry relation properties and JSON columns that TypeORM's deep-partial insert type cannot
 * follow; a whole entity is always a valid row, so inserts pass through this one cast. It hands
 * TypeORM a copy: on MySQL an insert re-reads columns with defaults and writes the raw values back
 * into the object it was given (a boolean became 0), and callers keep using their entity.
 */
export function asRow<T extends object>(entity: T): QueryDeepPartialEntity<T> {
  return { ...entity };
}
