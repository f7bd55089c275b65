import {
  Badge,
  Button,
  Group,
  Modal,
  Select,
  SimpleGrid,
  Stack,
  Tabs,
  Text,
  TextInput,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Schema } from '../../../clients/typescript/index.ts';
import { api, call, formatDate } from '../lib/api.ts';
import { factorColumns, type Factor } from '../lib/factors.tsx';
import { ApiKeysPanel, ChangeLog, GrantsTable, SessionsTable } from '../lib/credentials.tsx';
import { NamedRolesSelect, ServerRoleSelect, statusColor, type ServerRole } from '../lib/forms.tsx';
import { Link, navigate } from '../lib/router.tsx';
import {
  DataTable,
  Empty,
  fieldError,
  Loading,
  PageHeader,
  ProblemAlert,
  Section,
} from '../lib/ui.tsx';
import type { Access } from '../lib/whoami.ts';

type User = Schema<'UserWithProjectsDto'>;

function ProfileForm({ user, access }: { user: User; access: Access }): ReactNode {
  const qc = useQueryClient();
  const [fullName, setFullName] = useState(user.fullName ?? '');
  const [role, setRole] = useState<ServerRole>(user.role);
  const [roles, setRoles] = useState<string[]>(user.roles);
  const [status, setStatus] = useState<'active' | 'disabled'>(
    user.status === 'disabled' ? 'disabled' : 'active',
  );
  const manage = access.canManageUsers;
  const save = useMutation({
    mutationFn: () => {
      const body: Schema<'UpdateUserDto'> = { version: user.version };
      if (fullName !== (user.fullName ?? '')) body.fullName = fullName || null;
      if (manage && role !== user.role) body.role = role;
      if (manage && roles.join('\n') !== user.roles.join('\n')) body.roles = roles;
      if (manage && user.status !== 'pending' && status !== user.status) body.status = status;
      return call(api.PATCH('/api/v1/users/{id}', { params: { path: { id: user.id } }, body }));
    },
    onSuccess: () => qc.invalidateQueries({ queryKey: ['users'] }),
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    save.mutate();
  };
  const err = save.error;
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ProblemAlert error={err} shownFields={['fullName', 'role', 'roles', 'status']} />
        {save.isSuccess && !save.isPending && (
          <Text c="teal.8" fz="sm" role="status">
            Saved.
          </Text>
        )}
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label="Email" value={user.email ?? ''} readOnly disabled />
          <TextInput
            label="Full name"
            name="fullName"
            value={fullName}
            onChange={(e) => setFullName(e.currentTarget.value)}
            error={fieldError(err, 'fullName')}
          />
          <ServerRoleSelect
            value={role}
            onChange={setRole}
            error={fieldError(err, 'role')}
            disabled={!manage}
          />
          <Select
            label="Status"
            data={
              user.status === 'pending'
                ? [{ value: 'active', label: 'Pending activation' }]
                : [
                    { value: 'active', label: 'Active' },
                    { value: 'disabled', label: 'Disabled (cannot sign in)' },
                  ]
            }
            value={status}
            onChange={(v) => v && setStatus(v)}
            allowDeselect={false}
            disabled={!manage || user.status === 'pending'}
            error={fieldError(err, 'status')}
          />
        </SimpleGrid>
        <NamedRolesSelect
          value={roles}
          onChange={setRoles}
          error={fieldError(err, 'roles')}
          disabled={!manage}
        />
        <Group justify="flex-end">
          <Button type="submit" loading={save.isPending}>
            Save changes
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function DeleteUser({ user }: { user: User }): ReactNode {
  const qc = useQueryClient();
  const [opened, { open, close }] = useDisclosure(false);
  const del = useMutation({
    mutationFn: () => call(api.DELETE('/api/v1/users/{id}', { params: { path: { id: user.id } } })),
    onSuccess: async () => {
      close();
      await qc.invalidateQueries({ queryKey: ['users'] });
      navigate('/console/users');
    },
  });
  return (
    <>
      <Button color="red" variant="light" onClick={open}>
        Delete user
      </Button>
      <Modal opened={opened} onClose={close} title="Delete this user?">
        <Stack>
          <Text>
            {user.email} and everything that is only theirs (sessions, keys, grants, links,
            memberships) will be deleted. The audit log keeps its entries.
          </Text>
          <ProblemAlert error={del.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button color="red" onClick={() => del.mutate()} loading={del.isPending}>
              Delete
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

function Activate({ user }: { user: User }): ReactNode {
  const qc = useQueryClient();
  const act = useMutation({
    mutationFn: () =>
      call(api.POST('/api/v1/users/{id}/activate', { params: { path: { id: user.id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['users'] }),
  });
  return (
    <Button variant="default" onClick={() => act.mutate()} loading={act.isPending}>
      Activate
    </Button>
  );
}

/** An admin's view of a user's second factors: for someone who lost theirs, remove one (mailed). */
function FactorsPanel({ user }: { user: User }): ReactNode {
  const qc = useQueryClient();
  const [removing, setRemoving] = useState<Factor | null>(null);
  const factors = useQuery({
    queryKey: ['users', user.id, 'mfa'],
    queryFn: () => call(api.GET('/api/v1/users/{id}/mfa', { params: { path: { id: user.id } } })),
  });
  const remove = useMutation({
    mutationFn: (f: Factor) =>
      call(
        api.DELETE('/api/v1/users/{id}/mfa/{factorId}', {
          params: { path: { id: user.id, factorId: f.id } },
        }),
      ),
    onSuccess: async () => {
      setRemoving(null);
      await qc.invalidateQueries({ queryKey: ['users', user.id, 'mfa'] });
    },
  });
  return (
    <Stack gap="sm">
      {factors.data && (
        <Text fz="sm" c="#475569">
          Recovery codes left: {factors.data.recoveryCodesLeft}
          {factors.data.required ? ' · a second factor is required for this user' : ''}
        </Text>
      )}
      <DataTable
        caption="Second factors"
        rows={factors.data?.items ?? []}
        rowKey={(f) => f.id}
        loading={factors.isPending}
        error={factors.error}
        empty={<Empty title="No second factor">This user signs in with one step.</Empty>}
        columns={[
          ...factorColumns(),
          {
            header: 'Actions',
            cell: (f) => (
              <Button
                size="xs"
                color="red"
                variant="light"
                aria-label={`Remove ${f.name}`}
                onClick={() => setRemoving(f)}
              >
                Remove
              </Button>
            ),
          },
        ]}
      />
      <Modal
        opened={removing !== null}
        onClose={() => setRemoving(null)}
        title="Remove this factor?"
      >
        <Stack>
          <Text>
            “{removing?.name}” will no longer sign {user.email ?? 'this user'} in. They are mailed
            about it, and the removal is audited.
          </Text>
          <ProblemAlert error={remove.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRemoving(null)}>
              Cancel
            </Button>
            <Button
              color="red"
              loading={remove.isPending}
              onClick={() => removing && remove.mutate(removing)}
            >
              Remove
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

export default function UserDetailScreen({
  id,
  access,
}: {
  id: string;
  access: Access;
}): ReactNode {
  const q = useQuery({
    queryKey: ['users', id, 'detail'],
    queryFn: () =>
      call(
        api.GET('/api/v1/users/{id}', {
          params: { path: { id }, query: { includeProjects: true } },
        }),
      ),
  });
  if (q.isPending) return <Loading />;
  if (q.error) return <ProblemAlert error={q.error} title="This user could not be loaded" />;
  const user = q.data;
  const manage = access.canManageUsers;
  return (
    <>
      <Text fz="sm" mb={6}>
        <Link to="/console/users">← Users</Link>
      </Text>
      <PageHeader
        title={user.fullName ?? user.email ?? user.id}
        description={
          <Group gap={8} component="span">
            <span>{user.email}</span>
            <Badge variant="dot" color={statusColor(user.status)}>
              {user.status}
            </Badge>
            <Badge variant="light">{user.role}</Badge>
          </Group>
        }
        actions={
          manage && (
            <>
              {user.status === 'pending' && <Activate user={user} />}
              {user.id !== access.me.id && <DeleteUser user={user} />}
            </>
          )
        }
      />
      <Section title="Profile and roles" id="profile">
        <ProfileForm key={user.version} user={user} access={access} />
      </Section>
      <Tabs defaultValue="sessions" keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="sessions">Sessions</Tabs.Tab>
          <Tabs.Tab value="keys">API keys</Tabs.Tab>
          <Tabs.Tab value="grants">Grants</Tabs.Tab>
          {manage && <Tabs.Tab value="factors">Second factors</Tabs.Tab>}
          <Tabs.Tab value="projects">Projects</Tabs.Tab>
          <Tabs.Tab value="log">Change log</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="sessions">
          <SessionsTable userId={user.id} />
        </Tabs.Panel>
        <Tabs.Panel value="keys">
          <ApiKeysPanel userId={user.id} canCreate={manage} />
        </Tabs.Panel>
        <Tabs.Panel value="grants">
          <GrantsTable userId={user.id} />
        </Tabs.Panel>
        {manage && (
          <Tabs.Panel value="factors">
            <FactorsPanel user={user} />
          </Tabs.Panel>
        )}
        <Tabs.Panel value="projects">
          {(user.projects ?? []).length === 0 ? (
            <Text c="#475569">Not a member of any project.</Text>
          ) : (
            <Stack gap={6}>
              {(user.projects ?? []).map((p) => (
                <Group key={p.id} gap="sm">
                  <Link to={`/console/projects/${p.id}`}>{p.name}</Link>
                  <Text fz="xs" c="#475569">
                    {p.permissions.join(', ')}
                  </Text>
                </Group>
              ))}
            </Stack>
          )}
        </Tabs.Panel>
        <Tabs.Panel value="log">
          <ChangeLog userId={user.id} />
        </Tabs.Panel>
      </Tabs>
      <Text fz="xs" c="#475569" mt="lg">
        Created {formatDate(user.createdAt)} · updated {formatDate(user.updatedAt)}
      </Text>
    </>
  );
}
