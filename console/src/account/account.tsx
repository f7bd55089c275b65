import { Badge, Button, Group, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Schema } from '../../../clients/typescript/index.ts';
import { api, call, formatDate } from '../lib/api.ts';
import { ApiKeysPanel, GrantsTable, SessionsTable } from '../lib/credentials.tsx';
import {
  DataTable,
  Empty,
  fieldError,
  PageHeader,
  ProblemAlert,
  Section,
  usePaged,
} from '../lib/ui.tsx';
import type { Access } from '../lib/whoami.ts';
import { MfaSection } from './mfa.tsx';

function ProfileSection({ access }: { access: Access }): ReactNode {
  const qc = useQueryClient();
  const [fullName, setFullName] = useState(access.me.fullName ?? '');
  const save = useMutation({
    mutationFn: () => call(api.PATCH('/api/v1/users/me', { body: { fullName: fullName || null } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['access'] }),
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Section title="Profile" id="account-profile">
      <form onSubmit={submit} noValidate>
        <Stack gap="md" maw={480}>
          <ProblemAlert error={save.error} shownFields={['fullName']} />
          <TextInput
            label="Email"
            value={access.me.email ?? ''}
            readOnly
            disabled
            autoComplete="email"
          />
          <TextInput
            label="Full name"
            name="fullName"
            autoComplete="name"
            value={fullName}
            onChange={(e) => setFullName(e.currentTarget.value)}
            error={fieldError(save.error, 'fullName')}
          />
          <Group>
            <Button type="submit" loading={save.isPending}>
              Save profile
            </Button>
            {save.isSuccess && (
              <Text c="teal.8" fz="sm" role="status">
                Saved.
              </Text>
            )}
          </Group>
        </Stack>
      </form>
    </Section>
  );
}

function PasswordSection(): ReactNode {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const [newPasswordConfirm, setConfirm] = useState('');
  const change = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/v1/users/me/password', {
          body: { currentPassword, newPassword, newPasswordConfirm },
        }),
      ),
    onSuccess: () => {
      setCurrent('');
      setNew('');
      setConfirm('');
    },
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    change.mutate();
  };
  const err = change.error;
  return (
    <Section
      title="Password"
      description="Changing it signs out your other sessions."
      id="account-password"
    >
      <form onSubmit={submit} noValidate>
        <Stack gap="md" maw={480}>
          <input type="text" name="username" autoComplete="username" hidden readOnly />
          <ProblemAlert
            error={err}
            shownFields={['currentPassword', 'newPassword', 'newPasswordConfirm']}
          />
          <PasswordInput
            label="Current password"
            name="currentPassword"
            autoComplete="current-password"
            value={currentPassword}
            onChange={(e) => setCurrent(e.currentTarget.value)}
            error={fieldError(err, 'currentPassword')}
          />
          <PasswordInput
            label="New password"
            name="newPassword"
            autoComplete="new-password"
            value={newPassword}
            onChange={(e) => setNew(e.currentTarget.value)}
            error={fieldError(err, 'newPassword')}
          />
          <PasswordInput
            label="Repeat the new password"
            name="newPasswordConfirm"
            autoComplete="new-password"
            value={newPasswordConfirm}
            onChange={(e) => setConfirm(e.currentTarget.value)}
            error={fieldError(err, 'newPasswordConfirm')}
          />
          <Group>
            <Button type="submit" loading={change.isPending}>
              Change password
            </Button>
            {change.isSuccess && (
              <Text c="teal.8" fz="sm" role="status">
                Password changed; your other sessions were signed out.
              </Text>
            )}
          </Group>
        </Stack>
      </form>
    </Section>
  );
}

function SessionsSection({ userId }: { userId: string }): ReactNode {
  const qc = useQueryClient();
  const others = useMutation({
    mutationFn: async () => {
      const page = await call(
        api.GET('/api/v1/users/{id}/sessions', {
          params: { path: { id: userId }, query: { limit: 500 } },
        }),
      );
      for (const s of page.items.filter((x) => !x.current))
        await call(
          api.DELETE('/api/v1/users/{id}/sessions/{sid}', {
            params: { path: { id: userId, sid: s.id } },
          }),
        );
    },
    onSettled: () => qc.invalidateQueries({ queryKey: ['users', userId, 'sessions'] }),
  });
  return (
    <Section
      title="Sessions"
      description="Where you are signed in."
      id="account-sessions"
      actions={
        <Button variant="default" onClick={() => others.mutate()} loading={others.isPending}>
          Sign out other sessions
        </Button>
      }
    >
      <ProblemAlert error={others.error} />
      <SessionsTable userId={userId} onSignedOutCurrent={() => window.location.assign('/signin')} />
    </Section>
  );
}

type Authentication = Schema<'LinkedIdentityDto'> | Schema<'StoredCredentialDto'>;

function IdentitiesSection({ userId }: { userId: string }): ReactNode {
  const qc = useQueryClient();
  const key = ['users', userId, 'authentications'];
  const list = usePaged(key, (cursor) =>
    call(
      api.GET('/api/v1/users/{id}/authentications', {
        params: { path: { id: userId }, query: { limit: 50, cursor } },
      }),
    ),
  );
  const remove = useMutation({
    mutationFn: (service: string) =>
      call(
        api.DELETE('/api/v1/users/{id}/authentications/{service}', {
          params: { path: { id: userId, service } },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: key }),
  });
  const linked = list.items.filter((a): a is Schema<'LinkedIdentityDto'> => a.kind === 'oidc');
  const stored = list.items.filter(
    (a): a is Schema<'StoredCredentialDto'> => a.kind === 'credential',
  );
  const common = {
    loading: list.isPending,
    error: list.error,
    hasMore: list.hasNextPage,
    loadingMore: list.isFetchingNextPage,
    onMore: () => void list.fetchNextPage(),
  };
  const removeButton = (a: Authentication, label: string): ReactNode => (
    <Button
      size="xs"
      variant="default"
      loading={remove.isPending && remove.variables === a.service}
      onClick={() => remove.mutate(a.service)}
    >
      {label}
    </Button>
  );
  return (
    <>
      <Section
        title="Linked sign-in providers"
        description="Identity providers you can sign in with. The last way to sign in cannot be unlinked."
        id="account-identities"
      >
        <ProblemAlert error={remove.error} />
        <DataTable
          caption="Linked identities"
          rows={linked}
          rowKey={(a) => a.service}
          {...common}
          empty={<Empty title="No linked providers">You sign in with your password.</Empty>}
          columns={[
            {
              header: 'Provider',
              cell: (a) => (
                <Text fw={600} fz="sm">
                  {a.providerName ?? a.service}
                </Text>
              ),
            },
            { header: 'Account', cell: (a) => <Text fz="sm">{a.email ?? a.subject}</Text> },
            { header: 'Linked', cell: (a) => <Text fz="sm">{formatDate(a.linkedAt)}</Text> },
            { header: 'Actions', cell: (a) => removeButton(a, 'Unlink') },
          ]}
        />
      </Section>
      <Section
        title="Stored external credentials"
        description="Credentials for other services kept for you, encrypted at rest."
        id="account-credentials"
      >
        <DataTable
          caption="Stored credentials"
          rows={stored}
          rowKey={(a) => a.service}
          {...common}
          empty={<Empty title="No stored credentials" />}
          columns={[
            {
              header: 'Service',
              cell: (a) => (
                <Text fw={600} fz="sm">
                  {a.displayName ?? a.service}
                </Text>
              ),
            },
            { header: 'Account', cell: (a) => <Text fz="sm">{a.serviceUser}</Text> },
            {
              header: 'Token expires',
              cell: (a) => <Text fz="sm">{formatDate(a.accessTokenExpires)}</Text>,
            },
            { header: 'Updated', cell: (a) => <Text fz="sm">{formatDate(a.updatedAt)}</Text> },
            { header: 'Actions', cell: (a) => removeButton(a, 'Delete') },
          ]}
        />
      </Section>
    </>
  );
}

/**
 * The account page's sections, in order. A session that must enrol a second factor first
 * (MFA_REQUIRED) gets only "Sign-in security": the API refuses everything else until it does.
 */
function sections(access: Access): { id: string; render: () => ReactNode }[] {
  const id = access.me.id;
  const mfa = {
    id: 'mfa',
    render: () => <MfaSection enrolmentRequired={access.mfaEnrolmentRequired} />,
  };
  if (access.mfaEnrolmentRequired) return [mfa];
  return [
    { id: 'profile', render: () => <ProfileSection access={access} /> },
    { id: 'password', render: () => <PasswordSection /> },
    mfa,
    { id: 'sessions', render: () => <SessionsSection userId={id} /> },
    {
      id: 'api-keys',
      render: () => (
        <Section
          title="API keys"
          description="Keys let your scripts call the API as you."
          id="account-api-keys"
        >
          <ApiKeysPanel userId={id} canCreate />
        </Section>
      ),
    },
    {
      id: 'grants',
      render: () => (
        <Section title="Grants" description="Long-lived tokens you gave out." id="account-grants">
          <GrantsTable userId={id} />
        </Section>
      ),
    },
    { id: 'identities', render: () => <IdentitiesSection userId={id} /> },
  ];
}

export default function AccountScreen({ access }: { access: Access }): ReactNode {
  return (
    <>
      <PageHeader
        title="Your account"
        description={
          <Group gap={8} component="span">
            <span>{access.me.email}</span>
            <Badge variant="light">{access.me.role}</Badge>
          </Group>
        }
        actions={
          access.isConsoleUser && (
            <Button component="a" href="/console" variant="default">
              Open the console
            </Button>
          )
        }
      />
      {sections(access).map((s) => (
        <div key={s.id}>{s.render()}</div>
      ))}
    </>
  );
}
