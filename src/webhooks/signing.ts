import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

export const SECRET_PREFIX = 'whsec_';

/** A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/**
 * The three Standard Webhooks headers for one attempt. Every secret given signs (the current one,
 * and the previous one during a rotation's overlap), space-separated in `webhook-signature`, as the
 * specification allows, so receivers holding either secret verify the message.
 */
export function signedHeaders(
  messageId: string,
  at: Date,
  payload: string,
  secrets: readonly string[],
): Record<string, string> {
  const signatures = secrets.map((s) => new Webhook(s).sign(messageId, at, payload));
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/** The AAD binding a sealed secret to its endpoint row. */
export function secretAad(endpointId: string): string {
  return `webhook_endpoints:${endpointId}`;
}
