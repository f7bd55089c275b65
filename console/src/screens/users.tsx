import {
  Badge,
  Button,
  Checkbox,
  Group,
  Modal,
  PasswordInput,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useDebouncedValue, useDisclosure } from '@mantine/hooks';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, call, formatDate } from '../lib/api.ts';
import { NamedRolesSelect, ServerRoleSelect, statusColor, type ServerRole } from '../lib/forms.tsx';
import { Link, navigate } from '../lib/router.tsx';
import { DataTable, Empty, fieldError, PageHeader, ProblemAlert, usePaged } from '../lib/ui.tsx';
import type { Access } from '../lib/whoami.ts';

function CreateUserModal({ opened, onClose }: { opened: boolean; onClose: () => void }): ReactNode {
  const qc = useQueryClient();
  const [email, setEmail] = useState('');
  const [fullName, setFullName] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<ServerRole>('user');
  const [roles, setRoles] = useState<string[]>([]);
  const [emailVerified, setEmailVerified] = useState(false);
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/v1/users', {
          body: {
            email,
            role,
            ...(fullName ? { fullName } : {}),
            ...(password ? { password } : {}),
            ...(roles.length ? { roles } : {}),
            ...(emailVerified ? { emailVerified } : {}),
          },
        }),
      ),
    onSuccess: async (user) => {
      await qc.invalidateQueries({ queryKey: ['users'] });
      onClose();
      navigate(`/console/users/${user.id}`);
    },
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };
  const err = create.error;
  return (
    <Modal opened={opened} onClose={onClose} title="Create user" size="lg">
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <ProblemAlert
            error={err}
            shownFields={['email', 'fullName', 'password', 'role', 'roles']}
          />
          <TextInput
            label="Email"
            name="email"
            type="email"
            autoComplete="off"
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
            error={fieldError(err, 'email')}
          />
          <TextInput
            label="Full name"
            name="fullName"
            autoComplete="off"
            value={fullName}
            onChange={(e) => setFullName(e.currentTarget.value)}
            error={fieldError(err, 'fullName')}
          />
          <PasswordInput
            label="Password"
            name="password"
            description="Leave empty for an account that signs in through a provider only"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={fieldError(err, 'password')}
          />
          <ServerRoleSelect value={role} onChange={setRole} error={fieldError(err, 'role')} />
          <NamedRolesSelect value={roles} onChange={setRoles} error={fieldError(err, 'roles')} />
          <Checkbox
            label="The email address is verified"
            checked={emailVerified}
            onChange={(e) => setEmailVerified(e.currentTarget.checked)}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create user
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export default function UsersScreen({ access }: { access: Access }): ReactNode {
  const [query, setQuery] = useState('');
  const [debounced] = useDebouncedValue(query.trim(), 250);
  const [opened, { open, close }] = useDisclosure(false);
  const list = usePaged(['users', 'list', debounced], (cursor) =>
    call(
      api.GET('/api/v1/users', {
        params: { query: { ...(debounced ? { query: debounced } : {}), limit: 25, cursor } },
      }),
    ),
  );
  return (
    <>
      <PageHeader
        title="Users"
        description={
          access.canReadUsers
            ? 'Everyone who can sign in to this server.'
            : 'Members of the workspaces you administer.'
        }
        actions={access.canManageUsers && <Button onClick={open}>Create user</Button>}
      />
      <TextInput
        label="Search users"
        placeholder="Email, username or name starts with…"
        value={query}
        onChange={(e) => setQuery(e.currentTarget.value)}
        mb="md"
        maw={420}
        type="search"
      />
      <DataTable
        caption="Users"
        rows={list.items}
        rowKey={(u) => u.id}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={
          <Empty title={debounced ? 'No users match' : 'No users yet'}>
            {debounced
              ? `Nobody's email, username or name starts with “${debounced}”.`
              : 'Create the first one with “Create user”.'}
          </Empty>
        }
        columns={[
          {
            header: 'User',
            cell: (u) => (
              <div>
                <Link to={`/console/users/${u.id}`} fw={600}>
                  {u.email}
                </Link>
                <Text fz="sm" c="#475569">
                  {u.fullName ?? '—'}
                </Text>
              </div>
            ),
          },
          {
            header: 'Server role',
            cell: (u) => (
              <Badge variant="light" color={u.role === 'admin' ? 'indigo' : 'gray'}>
                {u.role}
              </Badge>
            ),
          },
          {
            header: 'Named roles',
            cell: (u) =>
              u.roles.length ? (
                <Group gap={4}>
                  {u.roles.map((r) => (
                    <Badge key={r} variant="outline" color="gray">
                      {r}
                    </Badge>
                  ))}
                </Group>
              ) : (
                <Text c="#475569">—</Text>
              ),
          },
          {
            header: 'Status',
            cell: (u) => (
              <Badge variant="dot" color={statusColor(u.status)}>
                {u.status}
              </Badge>
            ),
          },
          { header: 'Created', cell: (u) => <Text fz="sm">{formatDate(u.createdAt)}</Text> },
        ]}
      />
      {access.canManageUsers && <CreateUserModal opened={opened} onClose={close} />}
    </>
  );
}
