import { MultiSelect, Select } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api, call } from './api.ts';

export const SERVER_ROLES = [
  { value: 'admin', label: 'Admin' },
  { value: 'user', label: 'User' },
  { value: 'reader', label: 'Reader (never writes)' },
  { value: 'demo', label: 'Demo (never writes)' },
];
export type ServerRole = 'admin' | 'user' | 'reader' | 'demo';
export const PROJECT_ROLES = ['reader', 'member', 'admin'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];
export const WORKSPACE_ROLES = ['admin', 'user', 'reader'] as const;
export type WorkspaceRole = (typeof WORKSPACE_ROLES)[number];

export function useRoleNames(): string[] {
  const q = useQuery({
    queryKey: ['roles', 'names'],
    queryFn: () => call(api.GET('/api/v1/roles', { params: { query: { limit: 500 } } })),
  });
  return q.data?.items.map((r) => r.name) ?? [];
}

export function ServerRoleSelect(props: {
  value: ServerRole;
  onChange: (v: ServerRole) => void;
  error?: string;
  disabled?: boolean;
}): ReactNode {
  return (
    <Select
      label="Server role"
      data={SERVER_ROLES}
      value={props.value}
      onChange={(v) => v && props.onChange(v as ServerRole)}
      allowDeselect={false}
      error={props.error}
      disabled={props.disabled}
    />
  );
}

export function NamedRolesSelect(props: {
  value: string[];
  onChange: (v: string[]) => void;
  error?: string;
  disabled?: boolean;
}): ReactNode {
  const names = useRoleNames();
  return (
    <MultiSelect
      label="Named roles"
      description="Server-level roles that bundle permissions"
      data={[...new Set([...names, ...props.value])]}
      value={props.value}
      onChange={props.onChange}
      error={props.error}
      disabled={props.disabled}
      searchable
      clearable
      nothingFoundMessage="No named roles yet"
    />
  );
}

export function statusColor(status: string): string {
  return status === 'active' ? 'teal' : status === 'pending' ? 'yellow' : 'gray';
}
