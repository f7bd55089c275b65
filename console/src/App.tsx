import {
  AppShell,
  Burger,
  Button,
  Container,
  Group,
  NavLink,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { api, call } from './lib/api.ts';
import { ReauthProvider } from './lib/reauth.tsx';
import { match, navigate, useLocation } from './lib/router.tsx';
import { FullPageLoader, Loading, ProblemAlert } from './lib/ui.tsx';
import { useAccess, type Access } from './lib/whoami.ts';

const UsersScreen = lazy(() => import('./screens/users.tsx'));
const UserDetailScreen = lazy(() => import('./screens/user-detail.tsx'));
const RolesScreen = lazy(() => import('./screens/roles.tsx'));
const WorkspacesScreen = lazy(() => import('./screens/workspaces.tsx'));
const GroupsScreen = lazy(() => import('./screens/groups.tsx'));
const ProjectsScreen = lazy(() => import('./screens/projects.tsx'));
const AuditScreen = lazy(() => import('./screens/audit.tsx'));
const WebhooksScreen = lazy(() => import('./screens/webhooks.tsx'));
const ClientsScreen = lazy(() => import('./screens/clients.tsx'));
const AccountScreen = lazy(() => import('./account/account.tsx'));

async function signOut(): Promise<void> {
  await call(api.POST('/api/v1/auth/logout')).catch(() => undefined);
  window.location.assign('/signin');
}

function Wordmark({ href }: { href: string }): ReactNode {
  return (
    <a href={href} className="gh-wordmark" aria-label="Gatehouse home">
      Gate<span>house</span>
    </a>
  );
}

function Header({
  access,
  opened,
  toggle,
  home,
}: {
  access: Access;
  opened?: boolean;
  toggle?: () => void;
  home: string;
}): ReactNode {
  return (
    <Group h="100%" px="md" justify="space-between" wrap="nowrap">
      <Group gap="sm" wrap="nowrap">
        {toggle && (
          <Burger
            opened={opened}
            onClick={toggle}
            hiddenFrom="sm"
            size="sm"
            aria-label="Toggle navigation"
          />
        )}
        <Wordmark href={home} />
      </Group>
      <Group gap="sm" wrap="nowrap">
        <Text fz="sm" c="#475569" visibleFrom="xs" data-testid="signed-in-email" truncate maw={260}>
          {access.me.email}
        </Text>
        <Button variant="default" size="xs" onClick={() => void signOut()}>
          Sign out
        </Button>
      </Group>
    </Group>
  );
}

interface NavItem {
  label: string;
  to: string;
  show: boolean;
}

function consoleNav(a: Access): NavItem[] {
  const tenancy = a.canReadUsers || a.adminWorkspaces.length > 0;
  return [
    { label: 'Users', to: '/console/users', show: tenancy },
    { label: 'Roles', to: '/console/roles', show: a.canReadUsers },
    { label: 'Workspaces', to: '/console/workspaces', show: tenancy },
    { label: 'Groups', to: '/console/groups', show: tenancy },
    { label: 'Projects', to: '/console/projects', show: tenancy },
    {
      label: 'Webhooks',
      to: '/console/webhooks',
      show: a.canManageWebhooks || a.adminWorkspaces.length > 0,
    },
    { label: 'Clients', to: '/console/clients', show: a.canReadClients },
    { label: 'Audit log', to: '/console/audit', show: a.canReadAudit },
    { label: 'My account', to: '/account', show: true },
  ].filter((n) => n.show);
}

function ConsoleRoutes({ path, access }: { path: string; access: Access }): ReactNode {
  let m: Record<string, string> | null;
  if (path === '/console' && !access.canReadUsers && access.adminWorkspaces.length === 0)
    return <ClientsScreen access={access} />;
  if (path === '/console' || path === '/console/users') return <UsersScreen access={access} />;
  if ((m = match('/console/users/:id', path)))
    return <UserDetailScreen access={access} id={m['id'] ?? ''} />;
  if (path === '/console/roles' && access.canReadUsers) return <RolesScreen access={access} />;
  if (path === '/console/workspaces' || (m = match('/console/workspaces/:domain', path)))
    return <WorkspacesScreen access={access} domain={m?.['domain']} />;
  if (path === '/console/groups' || (m = match('/console/groups/:id', path)))
    return <GroupsScreen access={access} id={m?.['id']} />;
  if (path === '/console/projects' || (m = match('/console/projects/:id', path)))
    return <ProjectsScreen access={access} id={m?.['id']} />;
  if (path === '/console/audit' && access.canReadAudit) return <AuditScreen />;
  if (
    access.canReadClients &&
    (path === '/console/clients' || (m = match('/console/clients/:id', path)))
  )
    return <ClientsScreen access={access} clientId={m?.['id']} />;
  if (path === '/console/webhooks' || (m = match('/console/webhooks/:id', path)))
    return <WebhooksScreen access={access} id={m?.['id']} />;
  return (
    <Stack gap="xs">
      <Title order={1} fz={26}>
        Not found
      </Title>
      <Text c="#475569">This page does not exist, or you are not allowed to see it.</Text>
    </Stack>
  );
}

function ConsoleLayout({ access, path }: { access: Access; path: string }): ReactNode {
  const [opened, { toggle, close }] = useDisclosure(false);
  const nav = consoleNav(access);
  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 230, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="lg"
    >
      <AppShell.Header>
        <Header access={access} opened={opened} toggle={toggle} home="/console" />
      </AppShell.Header>
      <AppShell.Navbar p="sm" aria-label="Console">
        {nav.map((n) => (
          <NavLink
            key={n.to}
            href={n.to}
            label={n.label}
            active={path === n.to || (n.to !== '/account' && path.startsWith(`${n.to}/`))}
            onClick={(e) => {
              e.preventDefault();
              close();
              if (n.to === '/account') window.location.assign('/account');
              else navigate(n.to);
            }}
            style={{ borderRadius: 8 }}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main bg="#f8fafc">
        <Container size="xl" px={0} component="main">
          <Suspense fallback={<Loading />}>
            <ConsoleRoutes path={path} access={access} />
          </Suspense>
        </Container>
      </AppShell.Main>
    </AppShell>
  );
}

function AccountLayout({ access }: { access: Access }): ReactNode {
  return (
    <AppShell header={{ height: 60 }} padding="lg">
      <AppShell.Header>
        <Header access={access} home="/account" />
      </AppShell.Header>
      <AppShell.Main bg="#f8fafc">
        <Container size="md" px={0} component="main">
          <Suspense fallback={<Loading />}>
            <AccountScreen access={access} />
          </Suspense>
        </Container>
      </AppShell.Main>
    </AppShell>
  );
}

export function App(): ReactNode {
  const { path } = useLocation();
  const { access, error, isPending } = useAccess();
  const refused = access && !access.isConsoleUser && path.startsWith('/console');
  useEffect(() => {
    // A caller who administers nothing has only their own account.
    if (refused) window.location.replace('/account');
  }, [refused]);
  if (isPending) return <FullPageLoader />;
  if (error || !access)
    return (
      <Container size="sm" py="xl">
        <ProblemAlert error={error} title="The console could not load" />
      </Container>
    );
  if (refused) return <FullPageLoader />;
  return (
    <ReauthProvider>
      {path.startsWith('/console') ? (
        <ConsoleLayout access={access} path={path} />
      ) : (
        <AccountLayout access={access} />
      )}
    </ReauthProvider>
  );
}
