import { Badge, Text } from '@mantine/core';
import type { Schema } from '../../../clients/typescript/index.ts';
import { formatDate } from './api.ts';
import type { Column } from './ui.tsx';

export type Factor = Schema<'FactorDto'>;

export const FACTOR_TYPE_LABEL: Record<Factor['type'], string> = {
  totp: 'Authenticator app',
  webauthn: 'Passkey',
};

/** The columns every list of second factors shows (the caller adds its actions). */
export function factorColumns(): Column<Factor>[] {
  return [
    {
      header: 'Name',
      cell: (f) => (
        <Text fw={600} fz="sm">
          {f.name}
        </Text>
      ),
    },
    {
      header: 'Kind',
      cell: (f) => (
        <Badge variant="light" color={f.type === 'totp' ? 'indigo' : 'teal'}>
          {FACTOR_TYPE_LABEL[f.type]}
        </Badge>
      ),
    },
    { header: 'Added', cell: (f) => <Text fz="sm">{formatDate(f.createdAt)}</Text> },
    { header: 'Last used', cell: (f) => <Text fz="sm">{formatDate(f.lastUsedAt)}</Text> },
  ];
}
