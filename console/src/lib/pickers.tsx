import { Select } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { api, call } from './api.ts';

/** A searchable user picker (prefix search on /users). */
export function UserPicker({
  label,
  value,
  onChange,
  error,
  name,
}: {
  label: string;
  value: string | null;
  onChange: (id: string | null) => void;
  error?: string;
  name?: string;
}): ReactNode {
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search.trim(), 200);
  const q = useQuery({
    queryKey: ['users', 'pick', debounced],
    queryFn: () =>
      call(
        api.GET('/api/v1/users', {
          params: { query: { ...(debounced ? { query: debounced } : {}), limit: 20 } },
        }),
      ),
  });
  const [picked, setPicked] = useState<{ value: string; label: string } | null>(null);
  const data = (q.data?.items ?? []).map((u) => ({
    value: u.id,
    // A service account (an OAuth client's) has no email: its name, then its id.
    label: u.email ? (u.fullName ? `${u.email} (${u.fullName})` : u.email) : (u.fullName ?? u.id),
  }));
  if (picked && !data.some((d) => d.value === picked.value)) data.unshift(picked);
  return (
    <Select
      label={label}
      name={name}
      placeholder="Type an email or name"
      searchable
      clearable
      data={data}
      value={value}
      onChange={(v, option) => {
        setPicked(v && option ? { value: v, label: option.label } : null);
        onChange(v);
      }}
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options }) => options}
      nothingFoundMessage={q.isPending ? 'Searching…' : 'No user matches'}
      error={error}
    />
  );
}

/** The workspaces the caller can see, by domain. */
export function WorkspaceSelect({
  value,
  onChange,
  error,
  label = 'Workspace',
  clearable,
}: {
  value: string | null;
  onChange: (domain: string | null) => void;
  error?: string;
  label?: string;
  clearable?: boolean;
}): ReactNode {
  const q = useQuery({
    queryKey: ['workspaces', 'all'],
    queryFn: () => call(api.GET('/api/v1/workspaces', { params: { query: { limit: 500 } } })),
  });
  return (
    <Select
      label={label}
      placeholder={clearable ? 'All workspaces' : 'Choose a workspace'}
      data={(q.data?.items ?? []).map((w) => ({ value: w.domain, label: w.title }))}
      value={value}
      onChange={onChange}
      clearable={clearable}
      searchable
      error={error}
      nothingFoundMessage="No workspace"
    />
  );
}

/** Groups the caller can see, optionally of one workspace. */
export function GroupPicker({
  value,
  onChange,
  workspace,
  error,
}: {
  value: string | null;
  onChange: (id: string | null) => void;
  workspace?: string;
  error?: string;
}): ReactNode {
  const q = useQuery({
    queryKey: ['groups', 'pick', workspace ?? ''],
    queryFn: () =>
      call(
        api.GET('/api/v1/groups', {
          params: { query: { limit: 500, ...(workspace ? { workspace } : {}) } },
        }),
      ),
  });
  return (
    <Select
      label="Group"
      placeholder="Choose a group"
      data={(q.data?.items ?? []).map((g) => ({ value: g.id, label: g.name }))}
      value={value}
      onChange={onChange}
      searchable
      error={error}
      nothingFoundMessage="No group"
    />
  );
}
