import {
  Alert,
  Button,
  Code,
  CopyButton,
  Group,
  Image,
  Modal,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import {
  startRegistration,
  type PublicKeyCredentialCreationOptionsJSON,
} from '@simplewebauthn/browser';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import QRCode from 'qrcode';
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import type { Schema } from '../../../clients/typescript/index.ts';
import { api, call } from '../lib/api.ts';
import { factorColumns, FACTOR_TYPE_LABEL, type Factor } from '../lib/factors.tsx';
import { useReauth } from '../lib/reauth.tsx';
import { DataTable, Empty, fieldError, ProblemAlert, Section } from '../lib/ui.tsx';

type Enrolment = Schema<'TotpEnrolment'>;

const MFA_KEY = ['mfa'];

/** Amber title and text dark enough on the light yellow (WCAG AA contrast). */
const WARNING_STYLES = { title: { color: '#78350f' }, message: { color: '#78350f' } };

/** Recovery codes, shown once: copy them or download them as a text file. */
function RecoveryCodesOnce({ codes, onDone }: { codes: string[]; onDone: () => void }): ReactNode {
  const text = codes.join('\n');
  const download = (): void => {
    const url = URL.createObjectURL(new Blob([`${text}\n`], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'gatehouse-recovery-codes.txt';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <Stack gap="md">
      <Alert color="indigo" variant="light" title="Save your recovery codes now">
        Each code signs you in once when you cannot use your authenticator or passkey. You will not
        see them again: only their hashes are kept. Any earlier codes no longer work.
      </Alert>
      <Code
        block
        data-testid="recovery-codes"
        tabIndex={0}
        aria-label="Your recovery codes"
        style={{ whiteSpace: 'pre-wrap' }}
      >
        {text}
      </Code>
      <Group justify="flex-end">
        <CopyButton value={text}>
          {({ copied, copy }) => (
            <Button variant="default" onClick={copy}>
              {copied ? 'Copied' : 'Copy codes'}
            </Button>
          )}
        </CopyButton>
        <Button variant="default" onClick={download}>
          Download
        </Button>
        <Button onClick={onDone}>I saved them</Button>
      </Group>
    </Stack>
  );
}

/** The otpauth URI as a QR code image (a data: URL, which the console CSP allows for images). */
function QrCode({ uri }: { uri: string }): ReactNode {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    QRCode.toDataURL(uri, { margin: 1, width: 200, errorCorrectionLevel: 'M' })
      .then((url) => live && setSrc(url))
      .catch(() => live && setSrc(null));
    return () => {
      live = false;
    };
  }, [uri]);
  if (!src) return <div style={{ width: 200, height: 200 }} aria-busy="true" />;
  return (
    <Image
      src={src}
      w={200}
      h={200}
      alt="QR code to scan with your authenticator app"
      data-testid="totp-qr"
    />
  );
}

function AddAuthenticator({ onDone }: { onDone: () => void }): ReactNode {
  const qc = useQueryClient();
  const withReauth = useReauth();
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  const start = useMutation({
    mutationFn: () =>
      withReauth(() => call(api.POST('/api/v1/users/me/mfa/totp', { body: name ? { name } : {} }))),
  });
  const confirm = useMutation({
    mutationFn: (e: Enrolment) =>
      withReauth(() =>
        call(
          api.POST('/api/v1/users/me/mfa/totp/confirm', {
            body: { factorId: e.factorId, code: code.replace(/\s/g, '') },
          }),
        ),
      ),
    onSuccess: async (r) => {
      await qc.invalidateQueries({ queryKey: MFA_KEY });
      await qc.invalidateQueries({ queryKey: ['access'] });
      if (r.recoveryCodes.length === 0) onDone();
    },
  });
  if (confirm.data && confirm.data.recoveryCodes.length > 0)
    return <RecoveryCodesOnce codes={confirm.data.recoveryCodes} onDone={onDone} />;
  const enrolment = start.data;
  if (!enrolment) {
    const submit = (e: FormEvent): void => {
      e.preventDefault();
      start.mutate();
    };
    return (
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <ProblemAlert error={start.error} shownFields={['name']} />
          <TextInput
            label="Name"
            name="name"
            description="Optional: tells your factors apart, e.g. “Phone”"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={fieldError(start.error, 'name')}
            data-autofocus
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onDone}>
              Cancel
            </Button>
            <Button type="submit" loading={start.isPending}>
              Continue
            </Button>
          </Group>
        </Stack>
      </form>
    );
  }
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    confirm.mutate(enrolment);
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <Text fz="sm">
          Scan the QR code with your authenticator app, or type the key into it, then enter the
          6-digit code it shows.
        </Text>
        <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="md">
          <QrCode uri={enrolment.otpauthUri} />
          <Stack gap={6}>
            <Text fz="sm" fw={600} id="totp-secret-label">
              Key for manual entry
            </Text>
            <Code
              block
              data-testid="totp-secret"
              aria-labelledby="totp-secret-label"
              tabIndex={0}
              style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}
            >
              {enrolment.secret.replace(/(.{4})(?=.)/g, '$1 ')}
            </Code>
            <CopyButton value={enrolment.secret}>
              {({ copied, copy }) => (
                <Button variant="default" size="xs" onClick={copy}>
                  {copied ? 'Copied' : 'Copy key'}
                </Button>
              )}
            </CopyButton>
            <Text fz="xs" c="#475569">
              Time-based, 6 digits, every 30 seconds.
            </Text>
          </Stack>
        </SimpleGrid>
        <ProblemAlert error={confirm.error} shownFields={['code']} />
        <TextInput
          label="Code from the app"
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          value={code}
          onChange={(e) => setCode(e.currentTarget.value)}
          error={fieldError(confirm.error, 'code')}
          data-autofocus
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={confirm.isPending}>
            Turn on
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function AddPasskey({ onDone }: { onDone: () => void }): ReactNode {
  const qc = useQueryClient();
  const withReauth = useReauth();
  const [name, setName] = useState('');
  const register = useMutation({
    mutationFn: async () => {
      const options = await withReauth(() =>
        call(api.POST('/api/v1/users/me/mfa/webauthn/options')),
      );
      const response = await startRegistration({
        optionsJSON: options as unknown as PublicKeyCredentialCreationOptionsJSON,
      });
      return withReauth(() =>
        call(
          api.POST('/api/v1/users/me/mfa/webauthn', {
            body: { ...(name ? { name } : {}), response: { ...response } },
          }),
        ),
      );
    },
    onSuccess: async (r) => {
      await qc.invalidateQueries({ queryKey: MFA_KEY });
      await qc.invalidateQueries({ queryKey: ['access'] });
      if (r.recoveryCodes.length === 0) onDone();
    },
  });
  if (register.data && register.data.recoveryCodes.length > 0)
    return <RecoveryCodesOnce codes={register.data.recoveryCodes} onDone={onDone} />;
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    register.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <Text fz="sm">
          Your browser asks you to create a passkey with this device (fingerprint, face, PIN) or a
          security key.
        </Text>
        <ProblemAlert error={register.error} shownFields={['name']} title="No passkey was added" />
        <TextInput
          label="Name"
          name="name"
          description="Optional: e.g. “Laptop” or “YubiKey”"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={fieldError(register.error, 'name')}
          data-autofocus
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={register.isPending}>
            Create passkey
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function RegenerateCodes({ onDone }: { onDone: () => void }): ReactNode {
  const qc = useQueryClient();
  const withReauth = useReauth();
  const regenerate = useMutation({
    mutationFn: () => withReauth(() => call(api.POST('/api/v1/users/me/mfa/recovery-codes'))),
    onSuccess: () => qc.invalidateQueries({ queryKey: MFA_KEY }),
  });
  if (regenerate.data)
    return <RecoveryCodesOnce codes={regenerate.data.recoveryCodes} onDone={onDone} />;
  return (
    <Stack gap="md">
      <ProblemAlert error={regenerate.error} />
      <Text>Make ten new recovery codes? The codes you have now stop working.</Text>
      <Group justify="flex-end">
        <Button variant="default" onClick={onDone}>
          Cancel
        </Button>
        <Button loading={regenerate.isPending} onClick={() => regenerate.mutate()}>
          Make new codes
        </Button>
      </Group>
    </Stack>
  );
}

function RemoveFactor({ factor, onDone }: { factor: Factor; onDone: () => void }): ReactNode {
  const qc = useQueryClient();
  const withReauth = useReauth();
  const remove = useMutation({
    mutationFn: () =>
      withReauth(() =>
        call(
          api.DELETE('/api/v1/users/{id}/mfa/{factorId}', {
            params: { path: { id: 'me', factorId: factor.id } },
          }),
        ),
      ),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: MFA_KEY });
      onDone();
    },
  });
  return (
    <Stack gap="md">
      <ProblemAlert error={remove.error} />
      <Text>
        Remove {FACTOR_TYPE_LABEL[factor.type].toLowerCase()} “{factor.name}”? It no longer signs
        you in. With no factor left, your password alone signs you in again. We email you about it.
      </Text>
      <Group justify="flex-end">
        <Button variant="default" onClick={onDone}>
          Cancel
        </Button>
        <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
          Remove
        </Button>
      </Group>
    </Stack>
  );
}

type Dialog =
  { kind: 'totp' } | { kind: 'passkey' } | { kind: 'codes' } | { kind: 'remove'; factor: Factor };

const DIALOG_TITLE: Record<Dialog['kind'], string> = {
  totp: 'Add an authenticator app',
  passkey: 'Add a passkey',
  codes: 'New recovery codes',
  remove: 'Remove this factor',
};

/** "Sign-in security": second factors, recovery codes. */
export function MfaSection({ enrolmentRequired }: { enrolmentRequired: boolean }): ReactNode {
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [opened, { open, close }] = useDisclosure(false);
  const factors = useQuery({
    queryKey: MFA_KEY,
    queryFn: () => call(api.GET('/api/v1/users/me/mfa')),
  });
  const show = (d: Dialog): void => {
    setDialog(d);
    open();
  };
  const done = (): void => {
    close();
    setDialog(null);
  };
  const list = factors.data;
  const hasFactor = (list?.items.length ?? 0) > 0;
  return (
    <Section
      title="Sign-in security"
      description="A second step after your password: an authenticator app or a passkey."
      id="account-mfa"
      actions={
        <>
          <Button variant="default" onClick={() => show({ kind: 'totp' })}>
            Add authenticator app
          </Button>
          <Button variant="default" onClick={() => show({ kind: 'passkey' })}>
            Add passkey
          </Button>
        </>
      }
    >
      <Stack gap="md">
        {enrolmentRequired && (
          <Alert
            color="yellow"
            variant="light"
            styles={WARNING_STYLES}
            title="Set up a second factor to continue"
          >
            Your account needs a second sign-in step before you can use anything else. Add an
            authenticator app or a passkey.
          </Alert>
        )}
        {!enrolmentRequired && list?.required && !hasFactor && (
          <Alert
            color="yellow"
            variant="light"
            styles={WARNING_STYLES}
            title="A second factor is required"
          >
            Add one now: without it, your next sign-in asks you to before anything else.
          </Alert>
        )}
        <DataTable
          caption="Your second factors"
          rows={list?.items ?? []}
          rowKey={(f) => f.id}
          loading={factors.isPending}
          error={factors.error}
          empty={
            <Empty title="No second factor yet">
              Your password alone signs you in. Add an authenticator app or a passkey.
            </Empty>
          }
          columns={[
            ...factorColumns(),
            {
              header: 'Actions',
              cell: (f) => (
                <Button
                  size="xs"
                  variant="default"
                  color="red"
                  onClick={() => show({ kind: 'remove', factor: f })}
                  aria-label={`Remove ${f.name}`}
                >
                  Remove
                </Button>
              ),
            },
          ]}
        />
        {hasFactor && list && (
          <Group justify="space-between" wrap="wrap" gap="sm">
            <Text fz="sm" data-testid="recovery-codes-left">
              Recovery codes left: <strong>{list.recoveryCodesLeft}</strong> of 10
            </Text>
            <Button variant="default" size="xs" onClick={() => show({ kind: 'codes' })}>
              Make new recovery codes
            </Button>
          </Group>
        )}
      </Stack>
      <Modal
        opened={opened}
        onClose={done}
        title={dialog ? DIALOG_TITLE[dialog.kind] : ''}
        size="lg"
        closeOnClickOutside={false}
      >
        {dialog?.kind === 'totp' && <AddAuthenticator onDone={done} />}
        {dialog?.kind === 'passkey' && <AddPasskey onDone={done} />}
        {dialog?.kind === 'codes' && <RegenerateCodes onDone={done} />}
        {dialog?.kind === 'remove' && <RemoveFactor factor={dialog.factor} onDone={done} />}
      </Modal>
    </Section>
  );
}
