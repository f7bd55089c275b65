import {
  Table,
  TableForeignKey,
  TableIndex,
  type QueryRunner,
  type TableColumnOptions,
} from 'typeorm';

// Column builders for migrations, so one migration file serves MySQL and SQLite alike.
export const col = {
  id: (name = 'id', primary = true): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: '36',
    isPrimary: primary,
  }),
  ref: (name: string, nullable = false): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: '36',
    isNullable: nullable,
  }),
  str: (
    name: string,
    length: number,
    nullable = false,
    defaultValue?: string,
  ): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: String(length),
    isNullable: nullable,
    ...(defaultValue !== undefined ? { default: `'${defaultValue}'` } : {}),
  }),
  char: (name: string, length: number, nullable = false): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: String(length),
    isNullable: nullable,
  }),
  text: (name: string, nullable = false): TableColumnOptions => ({
    name,
    type: 'text',
    isNullable: nullable,
  }),
  int: (name: string, defaultValue?: number): TableColumnOptions => ({
    name,
    type: 'integer',
    ...(defaultValue !== undefined ? { default: defaultValue } : {}),
  }),
  bigint: (name: string, primary = false): TableColumnOptions => ({
    name,
    type: 'bigint',
    isPrimary: primary,
  }),
  bool: (name: string, defaultValue: boolean): TableColumnOptions => ({
    name,
    type: 'boolean',
    default: defaultValue ? 1 : 0,
  }),
  date: (name: string, nullable = false): TableColumnOptions => ({
    name,
    type: 'datetime',
    precision: 3,
    isNullable: nullable,
  }),
  createdAt: (): TableColumnOptions => ({ name: 'created_at', type: 'datetime', precision: 3 }),
  updatedAt: (): TableColumnOptions => ({ name: 'updated_at', type: 'datetime', precision: 3 }),
  version: (): TableColumnOptions => ({ name: 'version', type: 'integer', default: 1 }),
};

export function fk(
  name: string,
  column: string,
  table: string,
  onDelete: 'CASCADE' | 'SET NULL' | 'RESTRICT' = 'CASCADE',
  refColumn = 'id',
): TableForeignKey {
  return new TableForeignKey({
    name,
    columnNames: [column],
    referencedTableName: table,
    referencedColumnNames: [refColumn],
    onDelete,
    onUpdate: 'NO ACTION',
  });
}

export function idx(name: string, columns: string[], unique = false): TableIndex {
  return new TableIndex({ name, columnNames: columns, isUnique: unique });
}

export async function createTable(
  qr: QueryRunner,
  name: string,
  columns: TableColumnOptions[],
  indices: TableIndex[] = [],
  foreignKeys: TableForeignKey[] = [],
): Promise<void> {
  await qr.createTable(new Table({ name, columns, indices, foreignKeys }), false, true, true);
}
