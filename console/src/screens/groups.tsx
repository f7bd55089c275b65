import { Badge, Button, Group, Modal, Stack, Text, Textarea, TextInput } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Schema } from '../../../clients/typescript/index.ts';
import { api, call, formatDate } from '../lib/api.ts';
import { statusColor } from '../lib/forms.tsx';
import { UserPicker, WorkspaceSelect } from '../lib/pickers.tsx';
import { Link, navigate, useLocation } from '../lib/router.tsx';
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

type GroupDto = Schema<'GroupResponseDto'>;

/** Parses the settings editor: a JSON object, or a message saying what is wrong. */
function parseSettings(text: string): { value?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return { value: {} };
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      return { error: 'Settings must be a JSON object, e.g. {"engine": "v2"}' };
    return { value: v as Record<string, unknown> };
  } catch (e) {
    return { error: `Not valid JSON: ${(e as Error).message}` };
  }
}

function CreateGroup({
  onDone,
  workspace,
}: {
  onDone: () => void;
  workspace: string | null;
}): ReactNode {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [ws, setWs] = useState<string | null>(workspace);
  const [settings, setSettings] = useState('');
  const parsed = parseSettings(settings);
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/v1/groups', {
          body: {
            name,
            workspace: ws ?? '',
            ...(parsed.value && Object.keys(parsed.value).length ? { settings: parsed.value } : {}),
          },
        }),
      ),
    onSuccess: async (g) => {
      await qc.invalidateQueries({ queryKey: ['groups'] });
      onDone();
      navigate(`/console/groups/${g.id}`);
    },
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!parsed.error) create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ProblemAlert error={create.error} shownFields={['name', 'workspace', 'settings']} />
        <TextInput
          label="Name"
          name="name"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={fieldError(create.error, 'name')}
        />
        <WorkspaceSelect
          value={ws}
          onChange={setWs}
          error={fieldError(create.error, 'workspace')}
        />
        <Textarea
          label="Settings (JSON)"
          name="settings"
          description="Optional free JSON kept with the group"
          autosize
          minRows={3}
          className="gh-mono"
          value={settings}
          onChange={(e) => setSettings(e.currentTarget.value)}
          error={parsed.error ?? fieldError(create.error, 'settings')}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create group
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function GroupList(): ReactNode {
  const { search } = useLocation();
  const workspace = search.get('workspace');
  const [opened, { open, close }] = useDisclosure(false);
  const list = usePaged(['groups', 'list', workspace ?? ''], (cursor) =>
    call(
      api.GET('/api/v1/groups', {
        params: { query: { limit: 50, cursor, ...(workspace ? { workspace } : {}) } },
      }),
    ),
  );
  return (
    <>
      <PageHeader
        title="Groups"
        description="Groups of people; give a group a project role and every member has it."
        actions={<Button onClick={open}>Create group</Button>}
      />
      <Group mb="md">
        <WorkspaceSelect
          label="Filter by workspace"
          value={workspace}
          clearable
          onChange={(d) =>
            navigate(d ? `/console/groups?workspace=${d}` : '/console/groups', { replace: true })
          }
        />
      </Group>
      <DataTable
        caption="Groups"
        rows={list.items}
        rowKey={(g) => g.id}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={
          <Empty title="No groups yet">
            Create a group to give many people the same project role.
          </Empty>
        }
        columns={[
          {
            header: 'Group',
            cell: (g) => (
              <Link to={`/console/groups/${g.id}`} fw={600}>
                {g.name}
              </Link>
            ),
          },
          { header: 'Workspace', cell: (g) => <Text fz="sm">{g.workspace}</Text> },
          { header: 'Members', cell: (g) => <Text fz="sm">{g.members.length}</Text> },
          { header: 'Created', cell: (g) => <Text fz="sm">{formatDate(g.createdAt)}</Text> },
        ]}
      />
      <Modal opened={opened} onClose={close} title="Create group" size="lg">
        {opened && <CreateGroup onDone={close} workspace={workspace} />}
      </Modal>
    </>
  );
}

function SettingsEditor({ group }: { group: GroupDto }): ReactNode {
  const qc = useQueryClient();
  const [name, setName] = useState(group.name);
  const [text, setText] = useState(JSON.stringify(group.settings, null, 2));
  const parsed = parseSettings(text);
  const save = useMutation({
    mutationFn: () =>
      call(
        api.PATCH('/api/v1/groups/{id}', {
          params: { path: { id: group.id } },
          body: { ...(name !== group.name ? { name } : {}), settings: parsed.value ?? {} },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['groups'] }),
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!parsed.error) save.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ProblemAlert error={save.error} shownFields={['name', 'settings']} />
        <TextInput
          label="Name"
          name="name"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={fieldError(save.error, 'name')}
        />
        <Textarea
          label="Settings (JSON)"
          name="settings"
          autosize
          minRows={4}
          className="gh-mono"
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
          error={parsed.error ?? fieldError(save.error, 'settings')}
        />
        <Group>
          <Button type="submit" loading={save.isPending}>
            Save
          </Button>
          {save.isSuccess && (
            <Text c="teal.8" fz="sm" role="status">
              Saved.
            </Text>
          )}
        </Group>
      </Stack>
    </form>
  );
}

function GroupDetail({ id }: { id: string }): ReactNode {
  const qc = useQueryClient();
  const [userId, setUserId] = useState<string | null>(null);
  const g = useQuery({
    queryKey: ['groups', id, 'detail'],
    queryFn: () =>
      call(
        api.GET('/api/v1/groups/{id}', {
          params: { path: { id }, query: { includeProjects: true } },
        }),
      ),
  });
  const add = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/v1/groups/{id}/members', {
          params: { path: { id } },
          body: { userId: userId ?? '' },
        }),
      ),
    onSuccess: async () => {
      setUserId(null);
      await qc.invalidateQueries({ queryKey: ['groups'] });
    },
  });
  const remove = useMutation({
    mutationFn: (uid: string) =>
      call(
        api.DELETE('/api/v1/groups/{id}/members/{userId}', {
          params: { path: { id, userId: uid } },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['groups'] }),
  });
  const del = useMutation({
    mutationFn: () => call(api.DELETE('/api/v1/groups/{id}', { params: { path: { id } } })),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: ['groups'] });
      navigate('/console/groups');
    },
  });
  if (g.isPending) return <Loading />;
  if (g.error) return <ProblemAlert error={g.error} title="This group could not be loaded" />;
  const group = g.data;
  const submitAdd = (e: FormEvent): void => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <>
      <Text fz="sm" mb={6}>
        <Link to="/console/groups">← Groups</Link>
      </Text>
      <PageHeader
        title={group.name}
        description={`In workspace ${group.workspace} · created ${formatDate(group.createdAt)}`}
        actions={
          <Button color="red" variant="light" onClick={() => del.mutate()} loading={del.isPending}>
            Delete group
          </Button>
        }
      />
      <ProblemAlert error={del.error} />
      <Section title="Members" id="group-members">
        <form onSubmit={submitAdd} noValidate>
          <Group align="flex-start" gap="sm" mb="md" wrap="wrap">
            <div style={{ flex: '1 1 280px' }}>
              <UserPicker
                label="Add a member"
                name="userId"
                value={userId}
                onChange={setUserId}
                error={fieldError(add.error, 'userId')}
              />
            </div>
            <Button type="submit" mt={25} loading={add.isPending} disabled={!userId}>
              Add member
            </Button>
          </Group>
        </form>
        <ProblemAlert error={add.error} shownFields={['userId']} />
        <ProblemAlert error={remove.error} />
        <DataTable
          caption="Group members"
          rows={group.members}
          rowKey={(m) => m.id}
          empty={<Empty title="No members yet" />}
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
            { header: 'Role', cell: (m) => <Badge variant="light">{m.role}</Badge> },
            {
              header: 'Status',
              cell: (m) => (
                <Badge variant="dot" color={statusColor(m.status)}>
                  {m.status}
                </Badge>
              ),
            },
            {
              header: 'Actions',
              cell: (m) => (
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
          ]}
        />
      </Section>
      <Section
        title="Projects"
        description="Projects this group is a member of."
        id="group-projects"
      >
        {(group.projects ?? []).length === 0 ? (
          <Text c="#475569" fz="sm">
            Not a member of any project. Add it from a project’s page.
          </Text>
        ) : (
          <Stack gap={6}>
            {(group.projects ?? []).map((p) => (
              <Group key={p.projectId} gap="sm">
                <Link to={`/console/projects/${p.projectId}`}>{p.name}</Link>
                <Badge variant="light">{p.role}</Badge>
              </Group>
            ))}
          </Stack>
        )}
      </Section>
      <Section title="Name and settings" id="group-settings">
        <SettingsEditor key={group.version} group={group} />
      </Section>
    </>
  );
}

export default function GroupsScreen({ id }: { access: Access; id?: string }): ReactNode {
  return id ? <GroupDetail id={id} /> : <GroupList />;
}
