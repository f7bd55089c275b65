import { Anchor, Button, Group, Modal, PasswordInput, Stack, Text, TextInput } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import {
  createContext,
  useCallback,
  useContext,
  useMemo,
  useRef,
  useState,
  type FormEvent,
  type ReactNode,
} from 'react';
import { api, ApiError, call, REAUTHENTICATION_REQUIRED } from './api.ts';
import { fieldError, ProblemAlert } from './ui.tsx';

/** Runs a sensitive request; when the API asks for a recent sign-in, asks for it and retries once. */
export type WithReauth = <T>(request: () => Promise<T>) => Promise<T>;

const ReauthContext = createContext<WithReauth>((request) => request());

export function useReauth(): WithReauth {
  return useContext(ReauthContext);
}

interface Waiting {
  resolve: () => void;
  reject: (e: unknown) => void;
  error: unknown;
}

function ReauthForm({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }): ReactNode {
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [withCode, setWithCode] = useState(false);
  const prove = useMutation({
    mutationFn: () => {
      const c = code.replace(/\s/g, '');
      const body = !withCode
        ? { password }
        : /^\d{6}$/.test(c)
          ? { code: c }
          : { recoveryCode: code.trim() };
      // A wrong password is the sign-in 401: it stays here (the session itself is still good).
      return call(api.POST('/api/v1/auth/reauthenticate', { body }), { stayOn401: true });
    },
    onSuccess: onDone,
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    prove.mutate();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <Text fz="sm">
          This change needs a recent sign-in.{' '}
          {withCode
            ? 'Enter a code from your authenticator app or a recovery code to go on.'
            : 'Enter your password to go on.'}
        </Text>
        <ProblemAlert
          error={prove.error}
          shownFields={['password', 'code', 'recoveryCode']}
          title="That did not work"
        />
        <input type="text" name="username" autoComplete="username" hidden readOnly />
        {withCode ? (
          <TextInput
            label="Code"
            name="code"
            autoComplete="one-time-code"
            value={code}
            onChange={(e) => setCode(e.currentTarget.value)}
            error={fieldError(prove.error, 'code') ?? fieldError(prove.error, 'recoveryCode')}
            data-autofocus
          />
        ) : (
          <PasswordInput
            label="Password"
            name="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={fieldError(prove.error, 'password')}
            data-autofocus
          />
        )}
        <Anchor component="button" type="button" fz="sm" onClick={() => setWithCode(!withCode)}>
          {withCode ? 'Use your password instead' : 'Use a code instead'}
        </Anchor>
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>
            Cancel
          </Button>
          <Button type="submit" loading={prove.isPending}>
            Continue
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/**
 * Gives the screens under it `useReauth()`: a request answered 401 reauthentication-required opens
 * "Confirm it's you" (`POST /auth/reauthenticate`), then runs again; Cancel fails it as it was.
 */
export function ReauthProvider({ children }: { children: ReactNode }): ReactNode {
  const [waiting, setWaiting] = useState<Waiting | null>(null);
  const current = useRef<Waiting | null>(null);
  const ask = useCallback(
    (error: unknown) =>
      new Promise<void>((resolve, reject) => {
        const w = { resolve, reject, error };
        current.current = w;
        setWaiting(w);
      }),
    [],
  );
  const withReauth = useCallback<WithReauth>(
    async <T,>(request: () => Promise<T>): Promise<T> => {
      try {
        return await request();
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 401 && e.is(REAUTHENTICATION_REQUIRED)))
          throw e;
        await ask(e);
        return request();
      }
    },
    [ask],
  );
  const close = (ok: boolean): void => {
    const w = current.current;
    current.current = null;
    setWaiting(null);
    if (!w) return;
    if (ok) w.resolve();
    else w.reject(w.error);
  };
  const value = useMemo(() => withReauth, [withReauth]);
  return (
    <ReauthContext.Provider value={value}>
      {children}
      {/* Above the dialog whose request asked for it (Mantine modals sit at z-index 200). */}
      <Modal
        opened={waiting !== null}
        onClose={() => close(false)}
        title="Confirm it's you"
        zIndex={400}
      >
        {waiting && <ReauthForm onDone={() => close(true)} onCancel={() => close(false)} />}
      </Modal>
    </ReauthContext.Provider>
  );
}
