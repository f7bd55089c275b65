import { Button, Group, Modal, Stack, Text, TextInput } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Schema } from '../../../clients/typescript/index.ts';
import { api, call, formatDate } from '../lib/api.ts';
import { SecretOnce } from '../lib/secret.tsx';
import { DataTable, Empty, fieldError, ProblemAlert, Section, usePaged } from '../lib/ui.tsx';

type ScimToken = Schema<'ScimTokenResponseDto'>;

function NewScimToken({ domain, onDone }: { domain: string; onDone: () => void }): ReactNode {
  const qc = useQueryClient();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/v1/workspaces/{domain}/scim-tokens', {
          params: { path: { domain } },
          body: { name },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['workspaces', domain, 'scim-tokens'] }),
  });
  if (create.data)
    return (
      <SecretOnce secret={create.data.token} what="token" onDone={onDone} testId="new-scim-token" />
    );
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ProblemAlert error={create.error} shownFields={['name']} />
        <TextInput
          label="Name"
          name="name"
          description="Which identity provider uses it, e.g. “Entra ID”"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={fieldError(create.error, 'name')}
          data-autofocus
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create token
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** The workspace's SCIM tokens (for its admins): list, create (shown once), revoke. */
export function ScimTokensSection({ domain }: { domain: string }): ReactNode {
  const qc = useQueryClient();
  const [opened, { open, close }] = useDisclosure(false);
  const [revoking, setRevoking] = useState<ScimToken | null>(null);
  const key = ['workspaces', domain, 'scim-tokens'];
  const list = usePaged(key, (cursor) =>
    call(
      api.GET('/api/v1/workspaces/{domain}/scim-tokens', {
        params: { path: { domain }, query: { limit: 50, cursor } },
      }),
    ),
  );
  const revoke = useMutation({
    mutationFn: (id: string) =>
      call(
        api.DELETE('/api/v1/workspaces/{domain}/scim-tokens/{id}', {
          params: { path: { domain, id } },
        }),
      ),
    onSuccess: async () => {
      setRevoking(null);
      await qc.invalidateQueries({ queryKey: key });
    },
  });
  return (
    <Section
      title="SCIM provisioning"
      id="ws-scim"
      description={
        <>
          Tokens an identity provider uses to create and update this workspace’s members at{' '}
          <span className="gh-mono">/scim/v2</span>.
        </>
      }
      actions={<Button onClick={open}>Create SCIM token</Button>}
    >
      <DataTable
        caption="SCIM tokens"
        rows={list.items}
        rowKey={(t) => t.id}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={<Empty title="No SCIM tokens">Create one for your identity provider.</Empty>}
        columns={[
          {
            header: 'Name',
            cell: (t) => (
              <div>
                <Text fw={600} fz="sm">
                  {t.name}
                </Text>
                <Text fz="xs" c="#475569" className="gh-mono">
                  {t.prefix}…
                </Text>
              </div>
            ),
          },
          { header: 'Created', cell: (t) => <Text fz="sm">{formatDate(t.createdAt)}</Text> },
          { header: 'Last used', cell: (t) => <Text fz="sm">{formatDate(t.lastUsedAt)}</Text> },
          {
            header: 'Actions',
            cell: (t) => (
              <Button
                size="xs"
                variant="default"
                onClick={() => setRevoking(t)}
                aria-label={`Revoke ${t.name}`}
              >
                Revoke
              </Button>
            ),
          },
        ]}
      />
      <Modal opened={opened} onClose={close} title="Create SCIM token">
        {opened && <NewScimToken domain={domain} onDone={close} />}
      </Modal>
      <Modal opened={revoking !== null} onClose={() => setRevoking(null)} title="Revoke SCIM token">
        {revoking && (
          <Stack gap="md">
            <ProblemAlert error={revoke.error} />
            <Text>
              Revoke <strong>{revoking.name}</strong>? The identity provider using it can no longer
              provision this workspace.
            </Text>
            <Group justify="flex-end">
              <Button variant="default" onClick={() => setRevoking(null)}>
                Cancel
              </Button>
              <Button
                color="red"
                loading={revoke.isPending}
                onClick={() => revoke.mutate(revoking.id)}
              >
                Revoke token
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Section>
  );
}
