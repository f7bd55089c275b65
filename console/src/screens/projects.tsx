import {
  Badge,
  Button,
  Group,
  List,
  Modal,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Schema } from '../../../clients/typescript/index.ts';
import { api, call, formatDate } from '../lib/api.ts';
import { PROJECT_ROLES, type ProjectRole } from '../lib/forms.tsx';
import { GroupPicker, UserPicker, WorkspaceSelect } from '../lib/pickers.tsx';
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

type Member = Schema<'ProjectMemberDto'>;
type Source = Schema<'PermissionSourceDto'>;

function CreateProject({
  onDone,
  workspace,
}: {
  onDone: () => void;
  workspace: string | null;
}): ReactNode {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [ws, setWs] = useState<string | null>(workspace);
  const create = useMutation({
    mutationFn: () => call(api.POST('/api/v1/projects', { body: { name, workspace: ws ?? '' } })),
    onSuccess: async (p) => {
      await qc.invalidateQueries({ queryKey: ['projects'] });
      onDone();
      navigate(`/console/projects/${p.id}`);
    },
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ProblemAlert error={create.error} shownFields={['name', 'workspace']} />
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
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create project
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function ProjectList(): ReactNode {
  const { search } = useLocation();
  const workspace = search.get('workspace');
  const [opened, { open, close }] = useDisclosure(false);
  const list = usePaged(['projects', 'list', workspace ?? ''], (cursor) =>
    call(
      api.GET('/api/v1/projects', {
        params: { query: { limit: 50, cursor, ...(workspace ? { workspace } : {}) } },
      }),
    ),
  );
  return (
    <>
      <PageHeader
        title="Projects"
        description="Projects live in a workspace; their members are people or groups."
        actions={<Button onClick={open}>Create project</Button>}
      />
      <Group mb="md">
        <WorkspaceSelect
          label="Filter by workspace"
          value={workspace}
          clearable
          onChange={(d) =>
            navigate(d ? `/console/projects?workspace=${d}` : '/console/projects', {
              replace: true,
            })
          }
        />
      </Group>
      <DataTable
        caption="Projects"
        rows={list.items}
        rowKey={(p) => p.id}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={<Empty title="No projects yet">Create a project in one of your workspaces.</Empty>}
        columns={[
          {
            header: 'Project',
            cell: (p) => (
              <Link to={`/console/projects/${p.id}`} fw={600}>
                {p.name}
              </Link>
            ),
          },
          { header: 'Workspace', cell: (p) => <Text fz="sm">{p.workspace}</Text> },
          {
            header: 'Your permissions',
            cell: (p) => (
              <Text fz="xs" c="#475569">
                {p.permissions.length} permission{p.permissions.length === 1 ? '' : 's'}
              </Text>
            ),
          },
          { header: 'Created', cell: (p) => <Text fz="sm">{formatDate(p.createdAt)}</Text> },
        ]}
      />
      <Modal opened={opened} onClose={close} title="Create project">
        {opened && <CreateProject onDone={close} workspace={workspace} />}
      </Modal>
    </>
  );
}

function AddMember({ projectId, workspace }: { projectId: string; workspace: string }): ReactNode {
  const qc = useQueryClient();
  const [kind, setKind] = useState<'user' | 'group'>('user');
  const [userId, setUserId] = useState<string | null>(null);
  const [groupId, setGroupId] = useState<string | null>(null);
  const [role, setRole] = useState<ProjectRole>('member');
  const add = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/v1/projects/{id}/members', {
          params: { path: { id: projectId } },
          body: {
            role,
            ...(kind === 'user' ? { userId: userId ?? '' } : { groupId: groupId ?? '' }),
          },
        }),
      ),
    onSuccess: async () => {
      setUserId(null);
      setGroupId(null);
      await qc.invalidateQueries({ queryKey: ['projects', projectId] });
    },
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    add.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="sm" mb="md">
        <ProblemAlert error={add.error} shownFields={['userId', 'groupId', 'role']} />
        <SegmentedControl
          aria-label="Member type"
          value={kind}
          onChange={(v) => setKind(v)}
          data={[
            { value: 'user', label: 'A person' },
            { value: 'group', label: 'A group' },
          ]}
          w={240}
        />
        <Group align="flex-start" gap="sm" wrap="wrap">
          <div style={{ flex: '1 1 260px' }}>
            {kind === 'user' ? (
              <UserPicker
                label="Person"
                value={userId}
                onChange={setUserId}
                error={fieldError(add.error, 'userId')}
              />
            ) : (
              <GroupPicker
                value={groupId}
                onChange={setGroupId}
                workspace={workspace}
                error={fieldError(add.error, 'groupId')}
              />
            )}
          </div>
          <Select
            label="Project role"
            data={[...PROJECT_ROLES]}
            value={role}
            onChange={(v) => v && setRole(v)}
            allowDeselect={false}
            w={140}
            error={fieldError(add.error, 'role')}
          />
          <Button type="submit" mt={25} loading={add.isPending}>
            Add member
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function describeSource(s: Source): string {
  switch (s.kind) {
    case 'direct':
      return `Direct membership as ${s.role}`;
    case 'group':
      return `Group “${s.groupName ?? s.groupId ?? '?'}” as ${s.role}`;
    case 'workspace':
      return `Workspace role, as project ${s.role}`;
    case 'server':
      return `Server role, as project ${s.role}`;
  }
}

function EffectivePermissions({ projectId }: { projectId: string }): ReactNode {
  const [userId, setUserId] = useState<string | null>(null);
  const q = useQuery({
    queryKey: ['projects', projectId, 'permissions', userId],
    queryFn: () =>
      call(
        api.GET('/api/v1/projects/{id}/permissions', {
          params: {
            path: { id: projectId },
            query: { userId: userId ?? undefined, explain: true },
          },
        }),
      ),
    enabled: userId !== null,
  });
  const rows = q.data?.explain ?? [];
  return (
    <Section
      title="Effective permissions"
      description="What a person may do in this project, and where each permission comes from."
      id="project-effective"
    >
      <div style={{ maxWidth: 420 }}>
        <UserPicker label="Person" value={userId} onChange={setUserId} name="effectiveUser" />
      </div>
      {userId && (
        <div style={{ marginTop: 16 }} data-testid="effective-permissions">
          {q.data?.serverRole && (
            <Text fz="sm" c="#475569" mb="sm">
              Server role: <strong>{q.data.serverRole}</strong>
            </Text>
          )}
          <DataTable
            caption="Where each permission comes from"
            rows={rows}
            rowKey={(r) => r.permission}
            loading={q.isPending}
            error={q.error}
            empty={
              <Empty title="No permissions here">This person has no role in this project.</Empty>
            }
            columns={[
              {
                header: 'Permission',
                cell: (r) => (
                  <Text fz="sm" className="gh-mono" fw={600}>
                    {r.permission}
                  </Text>
                ),
              },
              {
                header: 'In force',
                cell: (r) =>
                  r.granted ? (
                    <Badge color="teal" variant="light">
                      Granted
                    </Badge>
                  ) : (
                    <Badge color="gray" variant="light">
                      Capped
                    </Badge>
                  ),
              },
              {
                header: 'Where it comes from',
                cell: (r) => (
                  <List size="sm" spacing={2}>
                    {r.sources.map((s, i) => (
                      <List.Item key={i}>{describeSource(s)}</List.Item>
                    ))}
                    {r.cappedBy && (
                      <List.Item>
                        Capped by the server role <strong>{r.cappedBy.role}</strong> (never writes)
                      </List.Item>
                    )}
                  </List>
                ),
              },
            ]}
          />
        </div>
      )}
    </Section>
  );
}

function ProjectDetail({ id }: { id: string }): ReactNode {
  const qc = useQueryClient();
  const p = useQuery({
    queryKey: ['projects', id, 'detail'],
    queryFn: () => call(api.GET('/api/v1/projects/{id}', { params: { path: { id } } })),
  });
  const members = usePaged(['projects', id, 'members'], (cursor) =>
    call(
      api.GET('/api/v1/projects/{id}/members', {
        params: { path: { id }, query: { limit: 50, cursor } },
      }),
    ),
  );
  const setRole = useMutation({
    mutationFn: (v: { memberId: string; role: ProjectRole }) =>
      call(
        api.PATCH('/api/v1/projects/{id}/members/{memberId}', {
          params: { path: { id, memberId: v.memberId } },
          body: { role: v.role },
        }),
      ),
    onSettled: () => qc.invalidateQueries({ queryKey: ['projects', id] }),
  });
  const remove = useMutation({
    mutationFn: (memberId: string) =>
      call(
        api.DELETE('/api/v1/projects/{id}/members/{memberId}', {
          params: { path: { id, memberId } },
        }),
      ),
    onSettled: () => qc.invalidateQueries({ queryKey: ['projects', id] }),
  });
  if (p.isPending) return <Loading />;
  if (p.error) return <ProblemAlert error={p.error} title="This project could not be loaded" />;
  const project = p.data;
  const canManage = project.permissions.some(
    (x) => x === 'projects.update' || x === 'projects.*' || x === '*',
  );
  const name = (m: Member): ReactNode =>
    m.memberType === 'user' ? (
      <div>
        <Link to={`/console/users/${m.memberId}`} fw={600}>
          {m.email ?? m.memberId}
        </Link>
        <Text fz="xs" c="#475569">
          {m.fullName ?? 'Person'}
        </Text>
      </div>
    ) : (
      <div>
        <Link to={`/console/groups/${m.memberId}`} fw={600}>
          {m.name ?? m.memberId}
        </Link>
        <Text fz="xs" c="#475569">
          Group
        </Text>
      </div>
    );
  return (
    <>
      <Text fz="sm" mb={6}>
        <Link to="/console/projects">← Projects</Link>
      </Text>
      <PageHeader
        title={project.name}
        description={`In workspace ${project.workspace} · created ${formatDate(project.createdAt)}`}
      />
      <Section
        title="Members"
        description="People and groups with a role in this project."
        id="project-members"
      >
        {canManage && <AddMember projectId={id} workspace={project.workspace} />}
        <ProblemAlert error={setRole.error ?? remove.error} />
        <DataTable
          caption="Project members"
          rows={members.items}
          rowKey={(m) => m.memberId}
          loading={members.isPending}
          error={members.error}
          hasMore={members.hasNextPage}
          loadingMore={members.isFetchingNextPage}
          onMore={() => void members.fetchNextPage()}
          empty={<Empty title="No members yet" />}
          columns={[
            { header: 'Member', cell: name },
            {
              header: 'Project role',
              cell: (m) =>
                canManage ? (
                  <Select
                    aria-label={`Project role of ${m.email ?? m.name ?? m.memberId}`}
                    data={[...PROJECT_ROLES]}
                    value={m.projectRole}
                    onChange={(v) => v && setRole.mutate({ memberId: m.memberId, role: v })}
                    allowDeselect={false}
                    size="xs"
                    w={120}
                  />
                ) : (
                  <Badge variant="light">{m.projectRole}</Badge>
                ),
            },
            {
              header: 'Permissions',
              cell: (m) => (
                <Text fz="xs" c="#475569">
                  {m.permissions.join(', ')}
                </Text>
              ),
            },
            ...(canManage
              ? [
                  {
                    header: 'Actions',
                    cell: (m: Member) => (
                      <Button size="xs" variant="default" onClick={() => remove.mutate(m.memberId)}>
                        Remove
                      </Button>
                    ),
                  },
                ]
              : []),
          ]}
        />
      </Section>
      <EffectivePermissions projectId={id} />
    </>
  );
}

export default function ProjectsScreen({ id }: { access: Access; id?: string }): ReactNode {
  return id ? <ProjectDetail id={id} /> : <ProjectList />;
}
