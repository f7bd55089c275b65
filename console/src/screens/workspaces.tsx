import { Badge, Button, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { api, call, formatDate, permits } from '../lib/api.ts';
import { statusColor, WORKSPACE_ROLES, type WorkspaceRole } from '../lib/forms.tsx';
import { Link, navigate } from '../lib/router.tsx';
import {
  DataTable,
  Empty,
  fieldError,
  Loading,
  PageHeader,
  ProblemAlert,
  Section,
  usePaged,
} from '../lib/ui.tsx';
import type { Access } from '../lib/whoami.ts';
import { ScimTokensSection } from './scim-tokens.tsx';

function CreateWorkspace({ onDone }: { onDone: () => void }): ReactNode {
  const qc = useQueryClient();
  const [title, setTitle] = useState('');
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/v1/workspaces', { body: { title } })),
    onSuccess: async (w) => {
      await qc.invalidateQueries({ queryKey: ['workspaces'] });
      await qc.invalidateQueries({ queryKey: ['access'] });
      onDone();
      navigate(`/console/workspaces/${w.domain}`);
    },
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ProblemAlert error={create.error} shownFields={['title']} />
        <TextInput
          label="Title"
          name="title"
          value={title}
          onChange={(e) => setTitle(e.currentTarget.value)}
          error={fieldError(create.error, 'title')}
          description="Its address (domain) is made from the title"
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create workspace
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function WorkspaceList({ access }: { access: Access }): ReactNode {
  const [opened, { open, close }] = useDisclosure(false);
  const list = usePaged(['workspaces', 'list'], (cursor) =>
    call(
      api.GET('/api/v1/workspaces', {
        params: { query: { limit: 50, cursor, includeProjects: true } },
      }),
    ),
  );
  return (
    <>
      <PageHeader
        title="Workspaces"
        description="Each workspace holds its members, groups and projects."
        actions={
          permits(access.me.permissions, 'workspaces.create') && (
            <Button onClick={open}>Create workspace</Button>
          )
        }
      />
      <DataTable
        caption="Workspaces"
        rows={list.items}
        rowKey={(w) => w.id}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={
          <Empty title="No workspaces yet">Create one to start adding people and projects.</Empty>
        }
        columns={[
          {
            header: 'Workspace',
            cell: (w) => (
              <div>
                <Link to={`/console/workspaces/${w.domain}`} fw={600}>
                  {w.title}
                </Link>
                <Text fz="xs" c="#475569" className="gh-mono">
                  {w.domain}
                </Text>
              </div>
            ),
          },
          {
            header: 'Your role',
            cell: (w) =>
              w.role ? <Badge variant="light">{w.role}</Badge> : <Text c="#475569">—</Text>,
          },
          { header: 'Projects', cell: (w) => <Text fz="sm">{w.projects?.length ?? 0}</Text> },
          { header: 'Created', cell: (w) => <Text fz="sm">{formatDate(w.createdAt)}</Text> },
        ]}
      />
      <Modal opened={opened} onClose={close} title="Create workspace">
        {opened && <CreateWorkspace onDone={close} />}
      </Modal>
    </>
  );
}

/** What adding by email did, in words: people already known are invited, not added. */
function addSummary(items: readonly { status: 'added' | 'invited' | 'member' }[]): string {
  const count = (status: string): number => items.filter((i) => i.status === status).length;
  const parts = [
    count('added') && `${count('added')} added`,
    count('invited') &&
      `${count('invited')} invited (they join when they accept the mailed invitation)`,
    count('member') && `${count('member')} already a member`,
  ].filter(Boolean);
  return parts.length ? `${parts.join(', ')}.` : 'Nobody to add.';
}

function AddMembers({ domain }: { domain: string }): ReactNode {
  const qc = useQueryClient();
  const [emails, setEmails] = useState('');
  const [role, setRole] = useState<WorkspaceRole>('user');
  const add = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/v1/workspaces/{domain}/users', {
          params: { path: { domain } },
          body: {
            emails: emails
              .split(/[\s,;]+/)
              .map((e) => e.trim())
              .filter(Boolean),
            role,
          },
        }),
      ),
    onSuccess: async () => {
      setEmails('');
      await qc.invalidateQueries({ queryKey: ['workspaces', domain] });
    },
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="sm" mb="md">
        <ProblemAlert error={add.error} shownFields={['emails', 'role']} />
        {add.data && (
          <Text size="sm" role="status">
            {addSummary(add.data)}
          </Text>
        )}
        <Group align="flex-start" gap="sm" wrap="wrap">
          <TextInput
            label="Add people by email"
            name="emails"
            placeholder="ana@example.com, ben@example.com"
            value={emails}
            onChange={(e) => setEmails(e.currentTarget.value)}
            error={fieldError(add.error, 'emails')}
            style={{ flex: '1 1 260px' }}
          />
          <Select
            label="Role"
            data={[...WORKSPACE_ROLES]}
            value={role}
            onChange={(v) => v && setRole(v)}
            allowDeselect={false}
            w={140}
          />
          <Button type="submit" mt={25} loading={add.isPending}>
            Add
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function WorkspaceDetail({ domain }: { domain: string }): ReactNode {
  const qc = useQueryClient();
  const w = useQuery({
    queryKey: ['workspaces', domain, 'detail'],
    queryFn: () => call(api.GET('/api/v1/workspaces/{domain}', { params: { path: { domain } } })),
  });
  const members = usePaged(['workspaces', domain, 'users'], (cursor) =>
    call(
      api.GET('/api/v1/workspaces/{domain}/users', {
        params: { path: { domain }, query: { limit: 50, cursor } },
      }),
    ),
  );
  const setRole = useMutation({
    mutationFn: (v: { userId: string; role: WorkspaceRole }) =>
      call(
        api.PUT('/api/v1/workspaces/{domain}/users/{userId}', {
          params: { path: { domain, userId: v.userId } },
          body: { role: v.role },
        }),
      ),
    onSettled: () => qc.invalidateQueries({ queryKey: ['workspaces', domain] }),
  });
  const remove = useMutation({
    mutationFn: (userId: string) =>
      call(
        api.DELETE('/api/v1/workspaces/{domain}/users/{userId}', {
          params: { path: { domain, userId } },
        }),
      ),
    onSettled: () => qc.invalidateQueries({ queryKey: ['workspaces', domain] }),
  });
  if (w.isPending) return <Loading />;
  if (w.error) return <ProblemAlert error={w.error} title="This workspace could not be loaded" />;
  const isAdmin = w.data.role === 'admin';
  return (
    <>
      <Text fz="sm" mb={6}>
        <Link to="/console/workspaces">← Workspaces</Link>
      </Text>
      <PageHeader
        title={w.data.title}
        description={
          <span className="gh-mono">
            {w.data.domain} · created {formatDate(w.data.createdAt)}
          </span>
        }
        actions={
          <>
            <Button
              variant="default"
              onClick={() => navigate(`/console/groups?workspace=${domain}`)}
            >
              Groups
            </Button>
            <Button
              variant="default"
              onClick={() => navigate(`/console/projects?workspace=${domain}`)}
            >
              Projects
            </Button>
          </>
        }
      />
      <Section
        title="Members"
        description="People in this workspace and their workspace role."
        id="ws-members"
      >
        {isAdmin && <AddMembers domain={domain} />}
        <ProblemAlert error={setRole.error ?? remove.error} />
        <DataTable
          caption="Workspace members"
          rows={members.items}
          rowKey={(m) => m.id}
          loading={members.isPending}
          error={members.error}
          hasMore={members.hasNextPage}
          loadingMore={members.isFetchingNextPage}
          onMore={() => void members.fetchNextPage()}
          empty={<Empty title="No members" />}
          columns={[
            {
              header: 'Member',
              cell: (m) => (
                <div>
                  <Link to={`/console/users/${m.id}`} fw={600}>
                    {m.email}
                  </Link>
                  <Text fz="xs" c="#475569">
                    {m.fullName ?? '—'}
                  </Text>
                </div>
              ),
            },
            {
              header: 'Workspace role',
              cell: (m) =>
                isAdmin ? (
                  <Select
                    aria-label={`Workspace role of ${m.email}`}
                    data={[...WORKSPACE_ROLES]}
                    value={m.role}
                    onChange={(v) => v && setRole.mutate({ userId: m.id, role: v })}
                    allowDeselect={false}
                    w={120}
                    size="xs"
                  />
                ) : (
                  <Badge variant="light">{m.role}</Badge>
                ),
            },
            {
              header: 'Status',
              cell: (m) => (
                <Badge variant="dot" color={statusColor(m.status)}>
                  {m.status}
                </Badge>
              ),
            },
            ...(isAdmin
              ? [
                  {
                    header: 'Actions',
                    cell: (m: { id: string; email: string }) => (
                      <Button
                        size="xs"
                        variant="default"
                        onClick={() => remove.mutate(m.id)}
                        aria-label={`Remove ${m.email}`}
                      >
                        Remove
                      </Button>
                    ),
                  },
                ]
              : []),
          ]}
        />
      </Section>
      {isAdmin && <ScimTokensSection domain={domain} />}
    </>
  );
}

export default function WorkspacesScreen({
  access,
  domain,
}: {
  access: Access;
  domain?: string;
}): ReactNode {
  return domain ? <WorkspaceDetail domain={domain} /> : <WorkspaceList access={access} />;
}
