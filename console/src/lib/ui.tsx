import {
  Alert,
  Button,
  Center,
  Group,
  List,
  Loader,
  Paper,
  Skeleton,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { keepPreviousData, useInfiniteQuery, type QueryKey } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ApiError, type Page } from './api.ts';

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
}): ReactNode {
  return (
    <Group justify="space-between" align="flex-end" mb="lg" wrap="wrap" gap="sm">
      <div>
        <Title order={1} fz={26} fw={700}>
          {title}
        </Title>
        {description && (
          <Text c="#475569" mt={4}>
            {description}
          </Text>
        )}
      </div>
      {actions && <Group gap="sm">{actions}</Group>}
    </Group>
  );
}

export function Section({
  title,
  description,
  actions,
  children,
  id,
}: {
  title: string;
  description?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  id?: string;
}): ReactNode {
  return (
    <Paper withBorder p="lg" radius="md" component="section" aria-labelledby={id} mb="lg">
      <Group justify="space-between" align="flex-start" mb="md" wrap="wrap" gap="sm">
        <div>
          <Title order={2} fz={18} fw={650} id={id}>
            {title}
          </Title>
          {description && (
            <Text c="#475569" fz="sm" mt={2}>
              {description}
            </Text>
          )}
        </div>
        {actions && <Group gap="xs">{actions}</Group>}
      </Group>
      {children}
    </Paper>
  );
}

/** The problem's detail and every field error that no field on the form shows. */
export function ProblemAlert({
  error,
  shownFields = [],
  title,
}: {
  error: Error | null | undefined;
  shownFields?: string[];
  title?: string;
}): ReactNode {
  if (!error) return null;
  const problem = error instanceof ApiError ? error.problem : undefined;
  const others = (problem?.errors ?? []).filter(
    (e) => !shownFields.some((f) => e.field === f || e.field.startsWith(`${f}.`)),
  );
  return (
    <Alert
      color="red"
      variant="light"
      title={title ?? problem?.title ?? 'Something went wrong'}
      role="alert"
    >
      <Text fz="sm" c="#7f1d1d">
        {error.message}
      </Text>
      {others.length > 0 && (
        <List size="sm" mt={4} c="#7f1d1d">
          {others.map((e) => (
            <List.Item key={e.field + e.message}>
              <strong>{e.field}</strong>: {e.message}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}

/** The field's message from a failed request, for a form input's `error` prop. */
export function fieldError(error: Error | null | undefined, field: string): string | undefined {
  return error instanceof ApiError ? error.field(field) : undefined;
}

export function Empty({ title, children }: { title: string; children?: ReactNode }): ReactNode {
  return (
    <Center py={40}>
      <Stack align="center" gap={6} maw={420}>
        <Text fw={600}>{title}</Text>
        {children && (
          <Text c="#475569" fz="sm" ta="center">
            {children}
          </Text>
        )}
      </Stack>
    </Center>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }): ReactNode {
  return (
    <Stack gap="xs" aria-busy="true" aria-label={label} py="sm">
      <Skeleton height={18} radius="sm" />
      <Skeleton height={18} radius="sm" />
      <Skeleton height={18} radius="sm" width="70%" />
    </Stack>
  );
}

export function FullPageLoader(): ReactNode {
  return (
    <Center h="100vh" aria-busy="true">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="#475569">Loading Gatehouse…</Text>
      </Group>
    </Center>
  );
}

/** A keyset-paged list: `load` gets one page; the table asks for more with "Load more". */
export function usePaged<T>(
  key: QueryKey,
  load: (cursor: string | undefined) => Promise<Page<T>>,
  enabled = true,
) {
  const q = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => load(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled,
    // A new search keeps the rows on screen until its answer arrives.
    placeholderData: keepPreviousData,
  });
  const items = q.data?.pages.flatMap((p) => p.items) ?? [];
  return { ...q, items };
}

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  width?: number | string;
}

/** A table with clear headers, a loading state, an empty state and "Load more". */
export function DataTable<T>({
  rows,
  columns,
  rowKey,
  loading,
  error,
  empty,
  hasMore,
  loadingMore,
  onMore,
  caption,
}: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  loading?: boolean;
  error?: Error | null;
  empty: ReactNode;
  hasMore?: boolean;
  loadingMore?: boolean;
  onMore?: () => void;
  caption: string;
}): ReactNode {
  if (error) return <ProblemAlert error={error} />;
  if (loading) return <Loading />;
  if (rows.length === 0) return <>{empty}</>;
  return (
    <Stack gap="sm">
      <div className="gh-table-wrap">
        <Table
          className="gh-table"
          verticalSpacing="sm"
          horizontalSpacing="md"
          highlightOnHover
          withTableBorder
          striped={false}
        >
          <caption className="gh-visually-hidden" style={{ position: 'absolute', left: -10000 }}>
            {caption}
          </caption>
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th key={c.header} w={c.width} scope="col">
                  {c.header}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r) => (
              <Table.Tr key={rowKey(r)}>
                {columns.map((c) => (
                  <Table.Td key={c.header}>{c.cell(r)}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </div>
      {hasMore && (
        <Group justify="center">
          <Button variant="default" onClick={onMore} loading={loadingMore}>
            Load more
          </Button>
        </Group>
      )}
    </Stack>
  );
}
