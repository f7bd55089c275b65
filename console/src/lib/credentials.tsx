import {
  Alert,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Schema } from '../../../clients/typescript/index.ts';
import { api, call, formatDate } from './api.ts';
import { DataTable, Empty, fieldError, ProblemAlert, usePaged } from './ui.tsx';

type Session = Schema<'SessionResponseDto'>;

function browserOf(ua: string | null): string {
  if (!ua) return 'Unknown client';
  const m = /(Firefox|Edg|Chrome|Safari|curl|HeadlessChrome)\/[\d.]+/.exec(ua);
  return m ? m[0].replace('Edg/', 'Edge/') : ua.slice(0, 40);
}

/** Sign-in sessions of a user, each with "Sign out". */
export function SessionsTable({
  userId,
  onSignedOutCurrent,
}: {
  userId: string;
  onSignedOutCurrent?: () => void;
}): ReactNode {
  const qc = useQueryClient();
  const key = ['users', userId, 'sessions'];
  const list = usePaged(key, (cursor) =>
    call(
      api.GET('/api/v1/users/{id}/sessions', {
        params: { path: { id: userId }, query: { limit: 50, cursor } },
      }),
    ),
  );
  const revoke = useMutation({
    mutationFn: (s: Session) =>
      call(
        api.DELETE('/api/v1/users/{id}/sessions/{sid}', {
          params: { path: { id: userId, sid: s.id } },
        }),
      ),
    onSuccess: async (_d, s) => {
      if (s.current && onSignedOutCurrent) onSignedOutCurrent();
      await qc.invalidateQueries({ queryKey: key });
    },
  });
  return (
    <Stack gap="sm">
      <ProblemAlert error={revoke.error} />
      <DataTable
        caption="Sessions"
        rows={list.items}
        rowKey={(s) => s.id}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={<Empty title="No active sessions">Nobody is signed in as this user.</Empty>}
        columns={[
          {
            header: 'Client',
            cell: (s) => (
              <div>
                <Group gap={6}>
                  <Text fw={600} fz="sm">
                    {browserOf(s.userAgent)}
                  </Text>
                  {s.current && (
                    <Badge size="sm" variant="light">
                      This session
                    </Badge>
                  )}
                </Group>
                <Text fz="xs" c="#475569">
                  {s.method} · {s.ip ?? 'unknown address'}
                </Text>
              </div>
            ),
          },
          { header: 'Signed in', cell: (s) => <Text fz="sm">{formatDate(s.createdAt)}</Text> },
          { header: 'Last seen', cell: (s) => <Text fz="sm">{formatDate(s.lastSeenAt)}</Text> },
          {
            header: 'Actions',
            cell: (s) => (
              <Button
                size="xs"
                variant="default"
                color="red"
                loading={revoke.isPending && revoke.variables.id === s.id}
                onClick={() => revoke.mutate(s)}
                aria-label={`Sign out session ${s.id}`}
                data-session-id={s.id}
              >
                Sign out
              </Button>
            ),
          },
        ]}
      />
    </Stack>
  );
}

function NewKeyForm({ userId, onDone }: { userId: string; onDone: () => void }): ReactNode {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const [expiresAt, setExpiresAt] = useState('');
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/v1/users/{id}/api-keys', {
          params: { path: { id: userId } },
          body: {
            name,
            ...(expiresAt ? { expiresAt: new Date(expiresAt).toISOString() } : {}),
          },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['users', userId, 'api-keys'] }),
  });
  if (create.data) {
    const secret = create.data.key;
    return (
      <Stack gap="md">
        <Alert color="indigo" variant="light" title="Copy the key now">
          This is the only time the key is shown. Store it somewhere safe.
        </Alert>
        <Code block data-testid="new-api-key">
          {secret}
        </Code>
        <Group justify="flex-end">
          <CopyButton value={secret}>
            {({ copied, copy }) => (
              <Button variant="default" onClick={copy}>
                {copied ? 'Copied' : 'Copy key'}
              </Button>
            )}
          </CopyButton>
          <Button onClick={onDone}>Done</Button>
        </Group>
      </Stack>
    );
  }
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ProblemAlert error={create.error} shownFields={['name', 'expiresAt']} />
        <TextInput
          label="Name"
          name="name"
          description="What the key is for, e.g. “CI deploys”"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={fieldError(create.error, 'name')}
          data-autofocus
        />
        <TextInput
          label="Expires"
          name="expiresAt"
          type="date"
          description="Optional"
          value={expiresAt}
          onChange={(e) => setExpiresAt(e.currentTarget.value)}
          error={fieldError(create.error, 'expiresAt')}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create key
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** API keys of a user: list, create (secret shown once), revoke. */
export function ApiKeysPanel({
  userId,
  canCreate,
}: {
  userId: string;
  canCreate: boolean;
}): ReactNode {
  const qc = useQueryClient();
  const [opened, { open, close }] = useDisclosure(false);
  const key = ['users', userId, 'api-keys'];
  const list = usePaged(key, (cursor) =>
    call(
      api.GET('/api/v1/users/{id}/api-keys', {
        params: { path: { id: userId }, query: { limit: 50, cursor } },
      }),
    ),
  );
  const revoke = useMutation({
    mutationFn: (keyId: string) =>
      call(
        api.DELETE('/api/v1/users/{id}/api-keys/{keyId}', {
          params: { path: { id: userId, keyId } },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: key }),
  });
  return (
    <Stack gap="sm">
      {canCreate && (
        <Group justify="flex-end">
          <Button onClick={open}>Create API key</Button>
        </Group>
      )}
      <ProblemAlert error={revoke.error} />
      <DataTable
        caption="API keys"
        rows={list.items}
        rowKey={(k) => k.id}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={
          <Empty title="No API keys">
            Keys let scripts and services call the API as this user.
          </Empty>
        }
        columns={[
          {
            header: 'Name',
            cell: (k) => (
              <div>
                <Text fw={600} fz="sm">
                  {k.name}
                </Text>
                <Text fz="xs" c="#475569" className="gh-mono">
                  {k.prefix}…
                </Text>
              </div>
            ),
          },
          { header: 'Created', cell: (k) => <Text fz="sm">{formatDate(k.createdAt)}</Text> },
          { header: 'Last used', cell: (k) => <Text fz="sm">{formatDate(k.lastUsedAt)}</Text> },
          { header: 'Expires', cell: (k) => <Text fz="sm">{formatDate(k.expiresAt)}</Text> },
          {
            header: 'Actions',
            cell: (k) => (
              <Button
                size="xs"
                variant="default"
                loading={revoke.isPending && revoke.variables === k.id}
                onClick={() => revoke.mutate(k.id)}
                aria-label={`Revoke ${k.name}`}
              >
                Revoke
              </Button>
            ),
          },
        ]}
      />
      <Modal opened={opened} onClose={close} title="Create API key">
        {opened && <NewKeyForm userId={userId} onDone={close} />}
      </Modal>
    </Stack>
  );
}

/** Grants (long-lived refresh tokens) of a user, with revoke. */
export function GrantsTable({ userId }: { userId: string }): ReactNode {
  const qc = useQueryClient();
  const key = ['users', userId, 'grants'];
  const list = usePaged(key, (cursor) =>
    call(
      api.GET('/api/v1/users/{id}/grants', {
        params: { path: { id: userId }, query: { limit: 50, cursor } },
      }),
    ),
  );
  const revoke = useMutation({
    mutationFn: (gid: string) =>
      call(
        api.DELETE('/api/v1/users/{id}/grants/{gid}', { params: { path: { id: userId, gid } } }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: key }),
  });
  return (
    <Stack gap="sm">
      <ProblemAlert error={revoke.error} />
      <DataTable
        caption="Grants"
        rows={list.items}
        rowKey={(g) => g.id}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={
          <Empty title="No grants">Grants are long-lived tokens for a user or a service.</Empty>
        }
        columns={[
          {
            header: 'Type',
            cell: (g) => (
              <div>
                <Badge variant="light" color="gray">
                  {g.type}
                </Badge>
                {g.forClientId && (
                  <Text fz="xs" c="#475569">
                    for {g.forClientId}
                  </Text>
                )}
              </div>
            ),
          },
          {
            header: 'Limited to',
            cell: (g) =>
              g.projectPermissions ? (
                <Text fz="sm">
                  {g.projectPermissions
                    .map((p) => `${p.projectId.slice(0, 8)}…: ${p.permissions.join(', ')}`)
                    .join('; ')}
                </Text>
              ) : (
                <Text fz="sm" c="#475569">
                  Everything the user holds
                </Text>
              ),
          },
          { header: 'Created', cell: (g) => <Text fz="sm">{formatDate(g.createdAt)}</Text> },
          { header: 'Expires', cell: (g) => <Text fz="sm">{formatDate(g.expiresAt)}</Text> },
          {
            header: 'Actions',
            cell: (g) => (
              <Button size="xs" variant="default" onClick={() => revoke.mutate(g.id)}>
                Revoke
              </Button>
            ),
          },
        ]}
      />
    </Stack>
  );
}

/** Changes made to the user's record, newest first. */
export function ChangeLog({ userId }: { userId: string }): ReactNode {
  const list = usePaged(['users', userId, 'log'], (cursor) =>
    call(
      api.GET('/api/v1/users/{id}/log', {
        params: { path: { id: userId }, query: { limit: 25, cursor } },
      }),
    ),
  );
  return (
    <DataTable
      caption="Change log"
      rows={list.items}
      rowKey={(e) => e.seq}
      loading={list.isPending}
      error={list.error}
      hasMore={list.hasNextPage}
      loadingMore={list.isFetchingNextPage}
      onMore={() => void list.fetchNextPage()}
      empty={<Empty title="No changes recorded" />}
      columns={[
        { header: 'When', cell: (e) => <Text fz="sm">{formatDate(e.at)}</Text> },
        {
          header: 'Action',
          cell: (e) => (
            <Badge variant="light" color="gray" tt="none">
              {e.action}
            </Badge>
          ),
        },
        {
          header: 'By',
          cell: (e) => (
            <Text fz="sm" className="gh-mono">
              {e.actorId ? `${e.actorId.slice(0, 8)}…` : 'system'}
            </Text>
          ),
        },
        {
          header: 'Changes',
          cell: (e) => (
            <Text fz="xs" className="gh-mono" style={{ wordBreak: 'break-word' }}>
              {e.redacted ? '(redacted)' : JSON.stringify(e.changes)}
            </Text>
          ),
        },
      ]}
    />
  );
}
