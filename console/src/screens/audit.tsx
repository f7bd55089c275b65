import { Alert, Badge, Button, Group, SimpleGrid, Text, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, formatDate, toSignIn, type Page, type Problem } from '../lib/api.ts';
import { DataTable, Empty, PageHeader, ProblemAlert, usePaged } from '../lib/ui.tsx';

// LEAD: the audit routes (GET /api/v1/audit, /audit/verify) come from the `pages` branch and are
// not in the generated client of this branch yet. After merging, regenerate the client and switch
// these local types and the fetch below to `api.GET('/api/v1/audit', …)` and
// `api.GET('/api/v1/audit/verify')` with `Schema<'…'>` types.
interface AuditEntry {
  seq: string;
  at: string;
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  changes: Record<string, unknown>;
  redacted?: boolean;
}
interface VerifyResult {
  ok: boolean;
  checked: number;
  head: string | null;
  firstBadSeq?: string;
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, {
    credentials: 'same-origin',
    headers: { Accept: 'application/json' },
  });
  if (res.status === 401) toSignIn();
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const problem =
      body && typeof body === 'object' && 'title' in body
        ? (body as Problem)
        : {
            type: 'about:blank',
            title: 'Request failed',
            status: res.status,
            detail: `The server answered ${res.status}.`,
          };
    throw new ApiError(res.status, problem);
  }
  return body as T;
}

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

function queryOf(f: Filters, cursor: string | undefined): string {
  const q = new URLSearchParams();
  for (const k of ['actorId', 'targetType', 'targetId', 'action'] as const)
    if (f[k].trim()) q.set(k, f[k].trim());
  if (f.since) q.set('since', new Date(f.since).toISOString());
  if (f.until) q.set('until', new Date(f.until).toISOString());
  q.set('limit', '50');
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

export default function AuditScreen(): ReactNode {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const list = usePaged(['audit', filters], (cursor) =>
    getJson<Page<AuditEntry>>(`/api/v1/audit?${queryOf(filters, cursor)}`),
  );
  const verify = useMutation({ mutationFn: () => getJson<VerifyResult>('/api/v1/audit/verify') });
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
        rowKey={(e) => e.seq}
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
