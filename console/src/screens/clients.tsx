import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Code,
  CopyButton,
  Group,
  Modal,
  Select,
  SimpleGrid,
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
} from '../lib/ui.tsx';
import type { Access } from '../lib/whoami.ts';

type Client = Schema<'ClientResponse'>;
type AuthMethod = Client['tokenEndpointAuthMethod'];
type GrantType = Client['grantTypes'][number];

const GRANT_TYPES: { value: GrantType; label: string; description: string }[] = [
  {
    value: 'authorization_code',
    label: 'Authorization code',
    description: 'People sign in through the browser (PKCE)',
  },
  {
    value: 'refresh_token',
    label: 'Refresh token',
    description: 'Needs authorization code; issued with the offline_access scope',
  },
  {
    value: 'client_credentials',
    label: 'Client credentials',
    description: 'A service acting as itself, through its own service user',
  },
];

const AUTH_METHODS: { value: AuthMethod; label: string }[] = [
  { value: 'client_secret_basic', label: 'Client secret (HTTP Basic)' },
  { value: 'client_secret_post', label: 'Client secret (form body)' },
  { value: 'private_key_jwt', label: 'Private key JWT' },
  { value: 'none', label: 'None (public client, PKCE)' },
];

const SCOPE_HINTS = ['openid', 'profile', 'email', 'offline_access', 'gatehouse:projects'];

const authLabel = (m: AuthMethod): string => AUTH_METHODS.find((a) => a.value === m)?.label ?? m;
const hasSecret = (m: AuthMethod): boolean =>
  m === 'client_secret_basic' || m === 'client_secret_post';

/** The client id and its secret, shown this once. */
function ClientSecretOnce({
  clientId,
  secret,
  onDone,
}: {
  clientId: string;
  secret: string;
  onDone: () => void;
}): ReactNode {
  return (
    <Stack gap="md">
      <Group gap="xs" wrap="nowrap" align="center">
        <Text fz="sm" fw={600}>
          Client ID
        </Text>
        <Code data-testid="client-id" style={{ wordBreak: 'break-all' }}>
          {clientId}
        </Code>
        <CopyButton value={clientId}>
          {({ copied, copy }) => (
            <Button size="xs" variant="subtle" onClick={copy}>
              {copied ? 'Copied' : 'Copy ID'}
            </Button>
          )}
        </CopyButton>
      </Group>
      <SecretOnce secret={secret} what="client secret" onDone={onDone} testId="client-secret" />
    </Stack>
  );
}

interface Fields {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  scopes: string[];
  firstParty: boolean;
  allowedOrigins: string[];
}

/** The fields a client's registration and its edit form share. */
function CommonFields({
  v,
  set,
  error,
}: {
  v: Fields;
  set: (patch: Partial<Fields>) => void;
  error: Error | null;
}): ReactNode {
  return (
    <>
      <TextInput
        label="Name"
        name="name"
        description="Shown on the consent page"
        value={v.name}
        onChange={(e) => set({ name: e.currentTarget.value })}
        error={fieldError(error, 'name')}
        data-autofocus
      />
      <TagsInput
        label="Redirect URIs"
        name="redirectUris"
        description="Exact matches; http only for loopback (any port). Enter adds one"
        value={v.redirectUris}
        onChange={(redirectUris) => set({ redirectUris })}
        error={fieldError(error, 'redirectUris')}
        splitChars={[' ', ',']}
      />
      <TagsInput
        label="Post-logout redirect URIs"
        name="postLogoutRedirectUris"
        value={v.postLogoutRedirectUris}
        onChange={(postLogoutRedirectUris) => set({ postLogoutRedirectUris })}
        error={fieldError(error, 'postLogoutRedirectUris')}
        splitChars={[' ', ',']}
      />
      <TagsInput
        label="Scopes"
        name="scopes"
        description="What the client may ask for"
        data={SCOPE_HINTS}
        value={v.scopes}
        onChange={(scopes) => set({ scopes })}
        error={fieldError(error, 'scopes')}
        splitChars={[' ', ',']}
      />
      <TagsInput
        label="Allowed origins"
        name="allowedOrigins"
        description="Browser origins that may call the token endpoint (CORS), e.g. https://app.example.com"
        value={v.allowedOrigins}
        onChange={(allowedOrigins) => set({ allowedOrigins })}
        error={fieldError(error, 'allowedOrigins')}
        splitChars={[' ', ',']}
      />
      <Switch
        label="First-party (skips the consent page)"
        checked={v.firstParty}
        onChange={(e) => set({ firstParty: e.currentTarget.checked })}
        error={fieldError(error, 'firstParty')}
      />
    </>
  );
}

const FIELD_NAMES = [
  'name',
  'redirectUris',
  'postLogoutRedirectUris',
  'scopes',
  'allowedOrigins',
  'firstParty',
  'grantTypes',
  'tokenEndpointAuthMethod',
  'jwksUri',
];

function CreateClient({ onDone }: { onDone: () => void }): ReactNode {
  const qc = useQueryClient();
  const [v, setV] = useState<Fields>({
    name: '',
    redirectUris: [],
    postLogoutRedirectUris: [],
    scopes: ['openid'],
    firstParty: false,
    allowedOrigins: [],
  });
  const [grantTypes, setGrantTypes] = useState<string[]>(['authorization_code']);
  const [method, setMethod] = useState<AuthMethod>('client_secret_basic');
  const [jwksUri, setJwksUri] = useState('');
  const set = (patch: Partial<Fields>): void => setV((old) => ({ ...old, ...patch }));
  const create = useMutation({
    mutationFn: () =>
      call(
        api.POST('/api/v1/clients', {
          body: {
            ...v,
            grantTypes,
            tokenEndpointAuthMethod: method,
            ...(method === 'private_key_jwt' && jwksUri ? { jwksUri } : {}),
          },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['clients'] }),
  });
  if (create.data) {
    const c = create.data;
    if (c.clientSecret)
      return <ClientSecretOnce clientId={c.clientId} secret={c.clientSecret} onDone={onDone} />;
    return (
      <Stack gap="md">
        <Alert color="teal" variant="light" title="Client registered">
          It has no secret ({authLabel(c.tokenEndpointAuthMethod)}).
        </Alert>
        <Text fz="sm">
          Client ID: <Code data-testid="client-id">{c.clientId}</Code>
        </Text>
        <Group justify="flex-end">
          <Button onClick={onDone}>Done</Button>
        </Group>
      </Stack>
    );
  }
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };
  const err = create.error;
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <ProblemAlert error={err} shownFields={FIELD_NAMES} />
        <CommonFields v={v} set={set} error={err} />
        <Checkbox.Group
          label="Grant types"
          value={grantTypes}
          onChange={setGrantTypes}
          error={fieldError(err, 'grantTypes')}
        >
          <Stack gap={6} mt={6}>
            {GRANT_TYPES.map((g) => (
              <Checkbox key={g.value} value={g.value} label={g.label} description={g.description} />
            ))}
          </Stack>
        </Checkbox.Group>
        <Select
          label="Token endpoint authentication"
          data={AUTH_METHODS}
          value={method}
          onChange={(m) => m && setMethod(m)}
          allowDeselect={false}
          error={fieldError(err, 'tokenEndpointAuthMethod')}
        />
        {method === 'private_key_jwt' && (
          <TextInput
            label="JWK Set URL"
            name="jwksUri"
            description="https URL of the client's public keys"
            value={jwksUri}
            onChange={(e) => setJwksUri(e.currentTarget.value)}
            error={fieldError(err, 'jwksUri') ?? fieldError(err, 'jwks')}
          />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Register client
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function GrantBadges({ grants }: { grants: string[] }): ReactNode {
  return (
    <Group gap={4}>
      {grants.map((g) => (
        <Badge key={g} variant="light" color="gray" tt="none">
          {g}
        </Badge>
      ))}
    </Group>
  );
}

function ClientList({ access }: { access: Access }): ReactNode {
  const [opened, { open, close }] = useDisclosure(false);
  const list = useQuery({
    queryKey: ['clients', 'list'],
    queryFn: () => call(api.GET('/api/v1/clients')),
  });
  return (
    <>
      <PageHeader
        title="Clients"
        description="Applications that sign people in with Gatehouse, and services that get tokens from it."
        actions={access.canManageClients && <Button onClick={open}>Register client</Button>}
      />
      <DataTable
        caption="OAuth clients"
        rows={list.data?.items ?? []}
        rowKey={(c) => c.clientId}
        loading={list.isPending}
        error={list.error}
        empty={
          <Empty title="No clients yet">
            {access.canManageClients
              ? 'Register one to let an application use Gatehouse.'
              : 'An administrator registers them.'}
          </Empty>
        }
        columns={[
          {
            header: 'Client',
            cell: (c) => (
              <div>
                <Link to={`/console/clients/${encodeURIComponent(c.clientId)}`} fw={600}>
                  {c.name}
                </Link>
                <Text fz="xs" c="#475569" className="gh-mono" style={{ wordBreak: 'break-all' }}>
                  {c.clientId}
                </Text>
              </div>
            ),
          },
          { header: 'Grant types', cell: (c) => <GrantBadges grants={c.grantTypes} /> },
          {
            header: 'Authentication',
            cell: (c) => <Text fz="sm">{authLabel(c.tokenEndpointAuthMethod)}</Text>,
          },
          {
            header: 'First-party',
            cell: (c) => <Text fz="sm">{c.firstParty ? 'Yes' : 'No'}</Text>,
          },
          { header: 'Created', cell: (c) => <Text fz="sm">{formatDate(c.createdAt)}</Text> },
        ]}
      />
      <Modal
        opened={opened}
        onClose={close}
        title="Register client"
        size="lg"
        closeOnClickOutside={false}
      >
        {opened && <CreateClient onDone={close} />}
      </Modal>
    </>
  );
}

function EditClient({ client, canManage }: { client: Client; canManage: boolean }): ReactNode {
  const qc = useQueryClient();
  const [v, setV] = useState<Fields>({
    name: client.name,
    redirectUris: client.redirectUris,
    postLogoutRedirectUris: client.postLogoutRedirectUris,
    scopes: client.scopes,
    firstParty: client.firstParty,
    allowedOrigins: client.allowedOrigins,
  });
  const set = (patch: Partial<Fields>): void => setV((old) => ({ ...old, ...patch }));
  const save = useMutation({
    mutationFn: () =>
      call(
        api.PATCH('/api/v1/clients/{clientId}', {
          params: { path: { clientId: client.clientId } },
          body: v,
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['clients'] }),
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <fieldset disabled={!canManage} style={{ border: 0, padding: 0, margin: 0, minWidth: 0 }}>
        <Stack gap="md">
          <ProblemAlert error={save.error} shownFields={FIELD_NAMES} />
          <CommonFields v={v} set={set} error={save.error} />
          {canManage && (
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
          )}
        </Stack>
      </fieldset>
    </form>
  );
}

function ClientDetail({ access, clientId }: { access: Access; clientId: string }): ReactNode {
  const qc = useQueryClient();
  const [rotating, rotateModal] = useDisclosure(false);
  const [deleting, deleteModal] = useDisclosure(false);
  const key = ['clients', clientId, 'detail'];
  const client = useQuery({
    queryKey: key,
    queryFn: () => call(api.GET('/api/v1/clients/{clientId}', { params: { path: { clientId } } })),
  });
  const rotate = useMutation({
    mutationFn: () =>
      call(api.POST('/api/v1/clients/{clientId}/secret', { params: { path: { clientId } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: key }),
  });
  const remove = useMutation({
    mutationFn: () =>
      call(api.DELETE('/api/v1/clients/{clientId}', { params: { path: { clientId } } })),
    onSuccess: async () => {
      deleteModal.close();
      await qc.invalidateQueries({ queryKey: ['clients'] });
      navigate('/console/clients');
    },
  });
  if (client.isPending) return <Loading />;
  if (client.error)
    return <ProblemAlert error={client.error} title="This client could not be loaded" />;
  const c = client.data;
  const manage = access.canManageClients;
  const closeRotate = (): void => {
    rotate.reset();
    rotateModal.close();
  };
  return (
    <>
      <Text fz="sm" mb={6}>
        <Link to="/console/clients">← Clients</Link>
      </Text>
      <PageHeader
        title={c.name}
        description={
          <span className="gh-mono" style={{ wordBreak: 'break-all' }}>
            {c.clientId}
          </span>
        }
        actions={
          manage && (
            <>
              {hasSecret(c.tokenEndpointAuthMethod) && (
                <Button variant="default" onClick={rotateModal.open}>
                  Rotate secret
                </Button>
              )}
              <Button variant="default" color="red" onClick={deleteModal.open}>
                Delete
              </Button>
            </>
          )
        }
      />
      <Section title="How it gets tokens" id="client-grants">
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md">
          <div>
            <Text fz="sm" fw={600}>
              Grant types
            </Text>
            <GrantBadges grants={c.grantTypes} />
          </div>
          <div>
            <Text fz="sm" fw={600}>
              Token endpoint authentication
            </Text>
            <Text fz="sm">{authLabel(c.tokenEndpointAuthMethod)}</Text>
            {c.jwksUri && (
              <Text fz="xs" c="#475569" className="gh-mono" style={{ wordBreak: 'break-all' }}>
                {c.jwksUri}
              </Text>
            )}
          </div>
          {c.serviceUserId && (
            <div>
              <Text fz="sm" fw={600}>
                Service user
              </Text>
              <Text fz="sm">
                Its client_credentials tokens act as{' '}
                <Link
                  to={`/console/users/${c.serviceUserId}`}
                  fz="sm"
                  underline="always"
                  data-testid="service-user-link"
                >
                  this service user
                </Link>
                : give it roles and memberships as to a person.
              </Text>
            </div>
          )}
          <div>
            <Text fz="sm" fw={600}>
              Registered
            </Text>
            <Text fz="sm">
              {formatDate(c.createdAt)} · changed {formatDate(c.updatedAt)}
            </Text>
          </div>
        </SimpleGrid>
        <Text fz="xs" c="#475569" mt="sm">
          Grant types and the authentication method are fixed: register a new client to change them.
        </Text>
      </Section>
      <Section title="Settings" id="client-settings">
        <EditClient key={c.updatedAt} client={c} canManage={manage} />
      </Section>
      <Modal opened={rotating} onClose={closeRotate} title="Rotate client secret" size="lg">
        {rotate.data ? (
          <ClientSecretOnce
            clientId={rotate.data.clientId}
            secret={rotate.data.clientSecret}
            onDone={closeRotate}
          />
        ) : (
          <Stack gap="md">
            <ProblemAlert error={rotate.error} />
            <Text>
              Make a new secret? The current one stops working at once: update the application right
              after.
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
      <Modal opened={deleting} onClose={deleteModal.close} title="Delete client">
        <Stack gap="md">
          <ProblemAlert error={remove.error} />
          <Text>
            Delete “{c.name}”? Its tokens stop working
            {c.serviceUserId ? ' and its service user is disabled' : ''}. This cannot be undone.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={deleteModal.close}>
              Cancel
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
              Delete client
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

export default function ClientsScreen({
  access,
  clientId,
}: {
  access: Access;
  clientId?: string;
}): ReactNode {
  return clientId ? (
    <ClientDetail access={access} clientId={clientId} />
  ) : (
    <ClientList access={access} />
  );
}
