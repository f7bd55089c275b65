import { Alert, Button, Code, CopyButton, Group, Stack } from '@mantine/core';
import type { ReactNode } from 'react';

/** A secret shown this once, with a copy button and a clear warning. */
export function SecretOnce({
  secret,
  what,
  onDone,
  testId,
}: {
  secret: string;
  what: string;
  onDone: () => void;
  testId: string;
}): ReactNode {
  return (
    <Stack gap="md">
      <Alert color="indigo" variant="light" title={`Copy the ${what} now`}>
        You will not see it again: only a hash is kept. Store it somewhere safe.
      </Alert>
      <Code
        block
        data-testid={testId}
        tabIndex={0}
        aria-label={`The new ${what}`}
        style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }}
      >
        {secret}
      </Code>
      <Group justify="flex-end">
        <CopyButton value={secret}>
          {({ copied, copy }) => (
            <Button variant="default" onClick={copy}>
              {copied ? 'Copied' : `Copy ${what}`}
            </Button>
          )}
        </CopyButton>
        <Button onClick={onDone}>Done</Button>
      </Group>
    </Stack>
  );
}
