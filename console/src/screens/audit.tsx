import { Alert, Badge, Button, Group, SimpleGrid, Text, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Schema } from '../../../clients/typescript/index.ts';
import { api, call, formatDate } from '../lib/api.ts';
import { DataTable, Empty, PageHeader, ProblemAlert, usePaged } from '../lib/ui.tsx';

type AuditEntry = Schema<'AuditLogEntryDto'>;

interface Filters {
  actorId: string;
  targetType: string;
  targetId: string;
  action: string;
  since: string;
  until: string;
}
const EMPTY: Filters = {
  actorId: '',
  targetType: '',
  targetId: '',
  action: '',
  since: '',
  until: '',
};

/** The list's query parameters: empty filters left out, local times sent as ISO 8601. */
function queryOf(
  f: Filters,
  cursor: string | undefined,
): {
  actorId?: string;
  targetType?: string;
  targetId?: string;
  action?: string;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
} {
  const text = (v: string): string | undefined => v.trim() || undefined;
  return {
    actorId: text(f.actorId),
    targetType: text(f.targetType),
    targetId: text(f.targetId),
    action: text(f.action),
    since: f.since ? new Date(f.since).toISOString() : undefined,
    until: f.until ? new Date(f.until).toISOString() : undefined,
    limit: 50,
    cursor,
  };
}

export default function AuditScreen(): ReactNode {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const list = usePaged(['audit', filters], (cursor) =>
    call(api.GET('/api/v1/audit', { params: { query: queryOf(filters, cursor) } })),
  );
  const verify = useMutation({ mutationFn: () => call(api.GET('/api/v1/audit/verify')) });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setFilters(draft);
  };
  const set = (k: keyof Filters) => (e: { currentTarget: { value: string } }) =>
    setDraft({ ...draft, [k]: e.currentTarget.value });
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Every change, newest first, in a hash chain that can be verified."
        actions={
          <Button variant="default" onClick={() => verify.mutate()} loading={verify.isPending}>
            Verify the chain
          </Button>
        }
      />
      {verify.data && (
        <Alert
          mb="md"
          role="status"
          color={verify.data.ok ? 'teal' : 'red'}
          title={verify.data.ok ? 'The chain is intact' : 'The chain is broken'}
        >
          Checked {verify.data.checked} entries
          {verify.data.ok ? '.' : `; the first bad entry is #${verify.data.firstBadSeq ?? '?'}.`}
        </Alert>
      )}
      <ProblemAlert error={verify.error} />
      <form onSubmit={submit} noValidate>
        <SimpleGrid cols={{ base: 1, sm: 3 }} mb="sm">
          <TextInput label="Actor id" value={draft.actorId} onChange={set('actorId')} />
          <TextInput
            label="Action"
            placeholder="user.update"
            value={draft.action}
            onChange={set('action')}
          />
          <TextInput
            label="Target type"
            placeholder="user"
            value={draft.targetType}
            onChange={set('targetType')}
          />
          <TextInput label="Target id" value={draft.targetId} onChange={set('targetId')} />
          <TextInput
            label="Since"
            type="datetime-local"
            value={draft.since}
            onChange={set('since')}
          />
          <TextInput
            label="Until"
            type="datetime-local"
            value={draft.until}
            onChange={set('until')}
          />
        </SimpleGrid>
        <Group mb="md" gap="sm">
          <Button type="submit">Apply filters</Button>
          <Button
            variant="subtle"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            Clear
          </Button>
        </Group>
      </form>
      <DataTable
        caption="Audit entries"
        rows={list.items}
        rowKey={(e: AuditEntry) => e.seq}
        loading={list.isPending}
        error={list.error}
        hasMore={list.hasNextPage}
        loadingMore={list.isFetchingNextPage}
        onMore={() => void list.fetchNextPage()}
        empty={<Empty title="No entries match">Change or clear the filters.</Empty>}
        columns={[
          {
            header: '#',
            cell: (e) => (
              <Text fz="sm" className="gh-mono">
                {e.seq}
              </Text>
            ),
          },
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
            header: 'Target',
            cell: (e) => (
              <Text fz="sm" className="gh-mono">
                {e.targetType}:{e.targetId.slice(0, 8)}
              </Text>
            ),
          },
          {
            header: 'Actor',
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
    </>
  );
}
