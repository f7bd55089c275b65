import { Badge, Button, Group, Modal, MultiSelect, Stack, Text, TextInput } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Schema } from '../../../clients/typescript/index.ts';
import { api, call, formatDate } from '../lib/api.ts';
import { DataTable, Empty, fieldError, PageHeader, ProblemAlert, usePaged } from '../lib/ui.tsx';
import type { Access } from '../lib/whoami.ts';

type Role = Schema<'RoleResponseDto'>;

function RoleForm({ role, onDone }: { role?: Role; onDone: () => void }): ReactNode {
  const qc = useQueryClient();
  const [name, setName] = useState(role?.name ?? '');
  const [description, setDescription] = useState(role?.description ?? '');
  const [permissions, setPermissions] = useState<string[]>(role?.permissions ?? []);
  const catalogue = useQuery({
    queryKey: ['permissions'],
    queryFn: () => call(api.GET('/api/v1/permissions', { params: { query: { limit: 500 } } })),
  });
  const save = useMutation({
    mutationFn: () =>
      role
        ? call(
            api.PATCH('/api/v1/roles/{name}', {
              params: { path: { name: role.name } },
              body: { name, description: description || null, permissions, version: role.version },
            }),
          )
        : call(
            api.POST('/api/v1/roles', {
              body: { name, description: description || null, permissions },
            }),
          ),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['roles'] });
      onDone();
    },
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    save.mutate();
  };
  const options = (catalogue.data?.items ?? []).map((p) => ({
    value: p.name,
    label: `${p.name} — ${p.description}`,
  }));
  for (const p of permissions)
    if (!options.some((o) => o.value === p)) options.push({ value: p, label: p });
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ProblemAlert error={save.error} shownFields={['name', 'description', 'permissions']} />
        <TextInput
          label="Name"
          name="name"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={fieldError(save.error, 'name')}
        />
        <TextInput
          label="Description"
          name="description"
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
          error={fieldError(save.error, 'description')}
        />
        <MultiSelect
          label="Permissions"
          data={options}
          value={permissions}
          onChange={setPermissions}
          searchable
          error={fieldError(save.error, 'permissions')}
          nothingFoundMessage="No such permission"
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {role ? 'Save role' : 'Create role'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export default function RolesScreen({ access }: { access: Access }): ReactNode {
  const qc = useQueryClient();
  const [opened, { open, close }] = useDisclosure(false);
  const [editing, setEditing] = useState<Role | undefined>();
  const list = usePaged(['roles', 'list'], (cursor) =>
    call(api.GET('/api/v1/roles', { params: { query: { limit: 50, cursor } } })),
  );
  const del = useMutation({
    mutationFn: (name: string) =>
      call(api.DELETE('/api/v1/roles/{name}', { params: { path: { name } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['roles'] }),
  });
  const manage = access.canManageRoles;
  const edit = (r?: Role): void => {
    setEditing(r);
    open();
  };
  return (
    <>
      <PageHeader
        title="Named roles"
        description="Server-level roles that bundle permissions; give them to users on their page."
        actions={manage && <Button onClick={() => edit(undefined)}>Create role</Button>}
      />
      <ProblemAlert error={del.error} />
      <DataTable
        caption="Named roles"
        rows={list.items}
        rowKey={(r) => r.id}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={
          <Empty title="No named roles yet">
            A named role bundles permissions such as users.read or audit.read.
          </Empty>
        }
        columns={[
          {
            header: 'Role',
            cell: (r) => (
              <div>
                <Text fw={600} fz="sm">
                  {r.name}
                </Text>
                <Text fz="xs" c="#475569">
                  {r.description ?? '—'}
                </Text>
              </div>
            ),
          },
          {
            header: 'Permissions',
            cell: (r) => (
              <Group gap={4}>
                {r.permissions.map((p) => (
                  <Badge key={p} variant="outline" color="gray" tt="none">
                    {p}
                  </Badge>
                ))}
              </Group>
            ),
          },
          { header: 'Updated', cell: (r) => <Text fz="sm">{formatDate(r.updatedAt)}</Text> },
          ...(manage
            ? [
                {
                  header: 'Actions',
                  cell: (r: Role) => (
                    <Group gap={6} wrap="nowrap">
                      <Button size="xs" variant="default" onClick={() => edit(r)}>
                        Edit
                      </Button>
                      <Button
                        size="xs"
                        variant="subtle"
                        color="red"
                        onClick={() => del.mutate(r.name)}
                      >
                        Delete
                      </Button>
                    </Group>
                  ),
                },
              ]
            : []),
        ]}
      />
      <Modal
        opened={opened}
        onClose={close}
        title={editing ? `Edit ${editing.name}` : 'Create role'}
        size="lg"
      >
        {opened && <RoleForm role={editing} onDone={close} />}
      </Modal>
    </>
  );
}
