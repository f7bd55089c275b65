import {
  Badge,
  Button,
  Group,
  Modal,
  Select,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Schema } from '../../../clients/typescript/index.ts';
import { api, call, formatDate } from '../lib/api.ts';
import { Link, navigate } from '../lib/router.tsx';
import { SecretOnce } from '../lib/secret.tsx';
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

type Webhook = Schema<'WebhookResponseDto'>;
type Delivery = Schema<'DeliveryResponseDto'>;

const EVENT_HINTS = ['*', 'user.*', 'workspace.*', 'group.*', 'project.*', 'role.*'];

function workspaceLabel(access: Access, id: string | null): string {
  if (!id) return 'Every event of the server';
  return access.adminWorkspaces.find((w) => w.id === id)?.domain ?? id;
}

function deliveryColor(s: Delivery['status']): string {
  return s === 'succeeded' ? 'green' : s === 'failed' ? 'red' : 'yellow';
}

function CreateWebhook({
  access,
  workspace,
  onDone,
}: {
  access: Access;
  workspace: string;
  onDone: () => void;
}): ReactNode {
  const qc = useQueryClient();
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>([]);
  const [ws, setWs] = useState(workspace);
  const [description, setDescription] = useState('');
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/v1/webhooks', {
          body: {
            url,
            events,
            ...(ws ? { workspace: ws } : {}),
            ...(description ? { description } : {}),
          },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['webhooks'] }),
  });
  if (create.data)
    return (
      <SecretOnce
        secret={create.data.secret}
        what="signing secret"
        onDone={onDone}
        testId="new-webhook-secret"
      />
    );
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };
  const wsOptions = [
    ...(access.canManageWebhooks ? [{ value: '', label: 'Every event of the server' }] : []),
    ...access.adminWorkspaces.map((w) => ({ value: w.domain, label: w.title })),
  ];
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ProblemAlert
          error={create.error}
          shownFields={['url', 'events', 'workspace', 'description']}
        />
        <TextInput
          label="URL"
          name="url"
          placeholder="https://example.com/hooks/gatehouse"
          value={url}
          onChange={(e) => setUrl(e.currentTarget.value)}
          error={fieldError(create.error, 'url')}
          data-autofocus
        />
        <TagsInput
          label="Events"
          name="events"
          description="Audit actions (user.update), prefixes (user.*) or * for all; Enter adds one"
          data={EVENT_HINTS}
          value={events}
          onChange={setEvents}
          error={fieldError(create.error, 'events')}
        />
        <Select
          label="Workspace"
          data={wsOptions}
          value={ws}
          onChange={(v) => setWs(v ?? '')}
          allowDeselect={false}
          error={fieldError(create.error, 'workspace')}
        />
        <TextInput
          label="Description"
          name="description"
          description="Optional"
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
          error={fieldError(create.error, 'description')}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create webhook
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function WebhookList({ access }: { access: Access }): ReactNode {
  const [opened, { open, close }] = useDisclosure(false);
  const [workspace, setWorkspace] = useState(
    access.canManageWebhooks ? '' : (access.adminWorkspaces[0]?.domain ?? ''),
  );
  const list = usePaged(['webhooks', 'list', workspace], (cursor) =>
    call(
      api.GET('/api/v1/webhooks', {
        params: { query: { limit: 50, cursor, ...(workspace ? { workspace } : {}) } },
      }),
    ),
  );
  const filter = [
    ...(access.canManageWebhooks ? [{ value: '', label: 'All endpoints' }] : []),
    ...access.adminWorkspaces.map((w) => ({ value: w.domain, label: w.title })),
  ];
  return (
    <>
      <PageHeader
        title="Webhooks"
        description="Endpoints that receive signed events when something changes."
        actions={<Button onClick={open}>Create webhook</Button>}
      />
      {filter.length > 1 && (
        <Select
          label="Show"
          data={filter}
          value={workspace}
          onChange={(v) => setWorkspace(v ?? '')}
          allowDeselect={false}
          maw={320}
          mb="md"
        />
      )}
      <DataTable
        caption="Webhook endpoints"
        rows={list.items}
        rowKey={(w) => w.id}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={<Empty title="No webhooks yet">Create one to receive events.</Empty>}
        columns={[
          {
            header: 'Endpoint',
            cell: (w) => (
              <div>
                <Link
                  to={`/console/webhooks/${w.id}`}
                  fw={600}
                  className="gh-mono"
                  style={{ wordBreak: 'break-all' }}
                >
                  {w.url}
                </Link>
                {w.description && (
                  <Text fz="xs" c="#475569">
                    {w.description}
                  </Text>
                )}
              </div>
            ),
          },
          {
            header: 'Events',
            cell: (w) => (
              <Group gap={4}>
                {w.events.map((e) => (
                  <Badge key={e} variant="light" color="gray" tt="none">
                    {e}
                  </Badge>
                ))}
              </Group>
            ),
          },
          {
            header: 'Scope',
            cell: (w) => <Text fz="sm">{workspaceLabel(access, w.workspaceId)}</Text>,
          },
          {
            header: 'Status',
            cell: (w) => (
              <Badge variant="dot" color={w.enabled ? 'green' : 'gray'}>
                {w.enabled ? 'active' : 'paused'}
              </Badge>
            ),
          },
        ]}
      />
      <Modal opened={opened} onClose={close} title="Create webhook" size="lg">
        {opened && <CreateWebhook access={access} workspace={workspace} onDone={close} />}
      </Modal>
    </>
  );
}

function EditWebhook({ hook }: { hook: Webhook }): ReactNode {
  const qc = useQueryClient();
  const [events, setEvents] = useState<string[]>(hook.events);
  const [description, setDescription] = useState(hook.description ?? '');
  const [enabled, setEnabled] = useState(hook.enabled);
  const save = useMutation({
    mutationFn: () =>
      call(
        api.PATCH('/api/v1/webhooks/{id}', {
          params: { path: { id: hook.id } },
          body: { events, description: description || null, enabled },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['webhooks'] }),
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ProblemAlert error={save.error} shownFields={['events', 'description']} />
        <TagsInput
          label="Events"
          name="events"
          description="Audit actions (user.update), prefixes (user.*) or * for all"
          data={EVENT_HINTS}
          value={events}
          onChange={setEvents}
          error={fieldError(save.error, 'events')}
        />
        <TextInput
          label="Description"
          name="description"
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
          error={fieldError(save.error, 'description')}
        />
        <Switch
          label="Deliver events (off pauses the endpoint)"
          checked={enabled}
          onChange={(e) => setEnabled(e.currentTarget.checked)}
        />
        <Group justify="flex-end" gap="sm">
          {save.isSuccess && !save.isPending && (
            <Text fz="sm" c="#166534" role="status">
              Saved
            </Text>
          )}
          <Button type="submit" loading={save.isPending}>
            Save changes
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function Deliveries({ id }: { id: string }): ReactNode {
  const qc = useQueryClient();
  const key = ['webhooks', id, 'deliveries'];
  const list = usePaged(key, (cursor) =>
    call(
      api.GET('/api/v1/webhooks/{id}/deliveries', {
        params: { path: { id }, query: { limit: 25, cursor } },
      }),
    ),
  );
  const retry = useMutation({
    mutationFn: (deliveryId: string) =>
      call(
        api.POST('/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry', {
          params: { path: { id, deliveryId } },
        }),
      ),
    onSettled: () => qc.invalidateQueries({ queryKey: key }),
  });
  return (
    <Section
      title="Deliveries"
      id="wh-deliveries"
      description="Newest first, with every attempt."
      actions={
        <Button
          variant="default"
          size="xs"
          onClick={() => void list.refetch()}
          loading={list.isRefetching}
        >
          Refresh
        </Button>
      }
    >
      <ProblemAlert error={retry.error} />
      <DataTable
        caption="Deliveries"
        rows={list.items}
        rowKey={(d) => d.id}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={<Empty title="No deliveries yet">Events matching this endpoint appear here.</Empty>}
        columns={[
          {
            header: 'Event',
            cell: (d) => (
              <div>
                <Text fz="sm" fw={600} className="gh-mono">
                  {d.eventType}
                </Text>
                <Text fz="xs" c="#475569">
                  {formatDate(d.createdAt)}
                </Text>
              </div>
            ),
          },
          {
            header: 'Status',
            cell: (d) => (
              <Badge variant="dot" color={deliveryColor(d.status)} data-testid="delivery-status">
                {d.status}
              </Badge>
            ),
          },
          {
            header: 'Response',
            cell: (d) => (
              <div>
                <Text fz="sm">{d.lastStatusCode ?? '—'}</Text>
                {d.lastError && (
                  <Text fz="xs" c="#7f1d1d">
                    {d.lastError}
                  </Text>
                )}
              </div>
            ),
          },
          {
            header: 'Attempts',
            cell: (d) => (
              <div>
                <Text fz="sm">{d.attemptCount}</Text>
                {d.attempts.map((a) => (
                  <Text key={a.attempt} fz="xs" c="#475569">
                    #{a.attempt}: {a.statusCode ?? 'no answer'} in {a.durationMs} ms
                  </Text>
                ))}
              </div>
            ),
          },
          {
            header: 'Actions',
            cell: (d) => (
              <Button
                size="xs"
                variant="default"
                loading={retry.isPending && retry.variables === d.id}
                onClick={() => retry.mutate(d.id)}
                aria-label={`Redeliver ${d.eventType} ${d.id}`}
              >
                Redeliver
              </Button>
            ),
          },
        ]}
      />
    </Section>
  );
}

function WebhookDetail({ access, id }: { access: Access; id: string }): ReactNode {
  const qc = useQueryClient();
  const [rotating, rotateModal] = useDisclosure(false);
  const [deleting, deleteModal] = useDisclosure(false);
  const hook = useQuery({
    queryKey: ['webhooks', id, 'detail'],
    queryFn: () => call(api.GET('/api/v1/webhooks/{id}', { params: { path: { id } } })),
  });
  const rotate = useMutation({
    mutationFn: () => call(api.POST('/api/v1/webhooks/{id}/secret', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['webhooks', id, 'detail'] }),
  });
  const remove = useMutation({
    mutationFn: () => call(api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id } } })),
    onSuccess: async () => {
      deleteModal.close();
      await qc.invalidateQueries({ queryKey: ['webhooks'] });
      navigate('/console/webhooks');
    },
  });
  if (hook.isPending) return <Loading />;
  if (hook.error)
    return <ProblemAlert error={hook.error} title="This webhook could not be loaded" />;
  const h = hook.data;
  const closeRotate = (): void => {
    rotate.reset();
    rotateModal.close();
  };
  return (
    <>
      <Text fz="sm" mb={6}>
        <Link to="/console/webhooks">← Webhooks</Link>
      </Text>
      <PageHeader
        title="Webhook"
        description={
          <span className="gh-mono" style={{ wordBreak: 'break-all' }}>
            {h.url} · {workspaceLabel(access, h.workspaceId)}
          </span>
        }
        actions={
          <>
            <Button variant="default" onClick={rotateModal.open}>
              Rotate secret
            </Button>
            <Button variant="default" color="red" onClick={deleteModal.open}>
              Delete
            </Button>
          </>
        }
      />
      {h.previousSecretExpiresAt && (
        <Text fz="sm" c="#475569" mb="md">
          The previous secret signs too until {formatDate(h.previousSecretExpiresAt)}.
        </Text>
      )}
      <Section title="Settings" id="wh-settings">
        <EditWebhook key={h.updatedAt} hook={h} />
      </Section>
      <Deliveries id={id} />
      <Modal opened={rotating} onClose={closeRotate} title="Rotate signing secret">
        {rotate.data ? (
          <SecretOnce
            secret={rotate.data.secret}
            what="signing secret"
            onDone={closeRotate}
            testId="new-webhook-secret"
          />
        ) : (
          <Stack gap="md">
            <ProblemAlert error={rotate.error} />
            <Text>
              A new secret signs every delivery from now on; the current one keeps signing beside it
              for 24 hours so the receiver can switch.
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={closeRotate}>
                Cancel
              </Button>
              <Button loading={rotate.isPending} onClick={() => rotate.mutate()}>
                Rotate secret
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
      <Modal opened={deleting} onClose={deleteModal.close} title="Delete webhook">
        <Stack gap="md">
          <ProblemAlert error={remove.error} />
          <Text>Delete this endpoint and all its deliveries? Events are no longer sent to it.</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={deleteModal.close}>
              Cancel
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
              Delete webhook
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

export default function WebhooksScreen({ access, id }: { access: Access; id?: string }): ReactNode {
  return id ? <WebhookDetail access={access} id={id} /> : <WebhookList access={access} />;
}
