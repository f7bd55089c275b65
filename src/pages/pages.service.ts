import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppException, type FieldError } from '#src/common/errors/app.exception.js';
import { createValidationPipe } from '#src/common/validation.js';
import { AppConfig } from '#src/config/config.js';
import { PasswordService } from '#src/crypto/password.service.js';
import { AuthService } from '#src/auth/auth.service.js';
import { PasswordResetDto, RegisterDto } from '#src/auth/dto/auth.dto.js';
import { LinkTokensService, type LinkTokenState } from '#src/auth/link-tokens.service.js';
import { SessionsService } from '#src/auth/sessions/sessions.service.js';
import { SESSION_COOKIE } from '#src/kernel/auth.guard.js';
import { AccessService } from '#src/tenancy/access/access.service.js';
import type { FormErrors } from '#src/pages/views.js';

/** Server permissions every signed-in user may hold without administering anything. */
const SELF_SERVICE = new Set(['workspaces.create', 'credentials.create']);

const LABELS: Record<string, string> = {
  email: 'Email',
  fullName: 'Full name',
  password: 'Password',
  passwordConfirm: 'The repeated password',
};

/** A form field's string value: anything else (absent, an array from a repeated name) is ''. */
export function formValue(body: unknown, name: string): string {
  if (!body || typeof body !== 'object') return '';
  const v = (body as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : '';
}

/** Field messages from a refusal, each said as a sentence next to its field. */
export function fieldErrors(e: AppException, fallbackField: string): FormErrors {
  const list: FieldError[] = e.errors?.length
    ? e.errors
    : [{ field: fallbackField, message: e.detail }];
  const out: FormErrors = {};
  for (const { field, message } of list) {
    const name = field.split('.')[0] ?? field;
    if (out[name]) continue;
    const text = message.startsWith(name)
      ? message.slice(name.length).trimStart()
      : message.charAt(0).toLowerCase() + message.slice(1);
    const sentence =
      /^[A-Z]/.test(message) && !message.startsWith(name)
        ? message
        : `${LABELS[name] ?? name} ${text}`;
    out[name] = /[.!?]$/.test(sentence) ? sentence : `${sentence}.`;
  }
  return out;
}

/**
 * What the pages need from the rest of Gatehouse: where `/` sends a caller, the same-origin check
 * of our forms, input validated with the API's own rules, and the state of mailed links.
 */
@Injectable()
export class PagesService {
  private readonly origin: string;
  private readonly validation = createValidationPipe();

  constructor(
    private readonly config: AppConfig,
    private readonly sessions: SessionsService,
    private readonly access: AccessService,
    private readonly passwords: PasswordService,
    readonly auth: AuthService,
    readonly links: LinkTokensService,
  ) {
    this.origin = new URL(config.publicUrl).origin;
  }

  get registration(): AppConfig['registration'] {
    return this.config.registration;
  }

  get minPasswordLength(): number {
    return this.config.passwordPolicy.minLength;
  }

  /**
   * `/` for a browser: signed out to /signin; signed in to /console when the caller administers
   * something (a server permission beyond self-service, or a workspace they administer), else
   * to /account.
   */
  async home(req: FastifyRequest): Promise<string> {
    const cookies = (req as { cookies?: Record<string, string> }).cookies;
    const token = cookies?.[SESSION_COOKIE];
    if (!token || !this.sessions.accepts(token)) return '/signin';
    const principal = await this.sessions.resolve(token, 'cookie');
    if (!principal) return '/signin';
    if (principal.permissions.some((p) => !SELF_SERVICE.has(p))) return '/console';
    const administered = await this.access.membersOfAdministeredWorkspaces(principal.userId);
    return administered === null ? '/account' : '/console';
  }

  /** Our forms are posted from our own pages only: Origin (or Referer) must be this site. */
  checkOrigin(req: FastifyRequest): void {
    let origin = req.headers.origin;
    if (!origin && req.headers.referer) {
      try {
        origin = new URL(req.headers.referer).origin;
      } catch {
        origin = undefined;
      }
    }
    if (origin !== this.origin) {
      throw new AppException(
        'csrf_failed',
        'Forms must be sent from this site. Go back, reload the page and try again.',
      );
    }
  }

  /** The API's validation of a body (the DTO), as field messages; null when it passes. */
  async validate(
    metatype: typeof RegisterDto | typeof PasswordResetDto,
    body: object,
  ): Promise<FormErrors | null> {
    try {
      await this.validation.transform(body, { type: 'body', metatype });
      return null;
    } catch (e) {
      if (e instanceof AppException) return fieldErrors(e, 'email');
      throw e;
    }
  }

  /** Checks a new password and its repetition, as the policy says; null when both are fine. */
  newPasswordErrors(password: string, confirm: string): FormErrors | null {
    if (!password) return { password: 'Enter a new password.' };
    if (password.length > 1024) return { password: 'Password must be at most 1024 characters.' };
    try {
      this.passwords.check(password);
    } catch (e) {
      if (e instanceof AppException) return fieldErrors(e, 'password');
      throw e;
    }
    if (password !== confirm) return { passwordConfirm: 'The two passwords do not match.' };
    return null;
  }

  inspectReset(requestId: unknown): Promise<LinkTokenState> {
    return this.links.inspect(requestId, ['password_reset']);
  }

  inspectActivation(token: unknown): Promise<LinkTokenState> {
    return this.links.inspect(token, ['activation', 'invitation']);
  }
}
