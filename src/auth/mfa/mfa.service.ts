import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { generateToken, sha256Hex } from '#src/crypto/tokens.js';
import { SecretBox } from '#src/crypto/secret-box.js';
import { Database, type Tx } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { AuditService } from '#src/audit/audit.service.js';
import { MailService } from '#src/mail/mail.service.js';
import { UsersService } from '#src/users/users.service.js';
import type { User } from '#src/users/user.entity.js';
import type { Principal } from '#src/kernel/principal.js';
import { SessionsService } from '#src/auth/sessions/sessions.service.js';
import { MfaFactor, type MfaFactorType } from '#src/auth/mfa/entities/mfa-factor.entity.js';
import { MfaRecoveryCode } from '#src/auth/mfa/entities/mfa-recovery-code.entity.js';
import {
  MfaChallenge,
  type MfaChallengePurpose,
} from '#src/auth/mfa/entities/mfa-challenge.entity.js';
import { MFA_TOKEN_ATTEMPTS, MfaRepository } from '#src/auth/mfa/mfa.repository.js';
import { MfaRequirements } from '#src/kernel/mfa-requirements.js';

export const MFA_TOKEN_PREFIX = 'gthm_';
export const MFA_TOKEN_MINUTES = 5;
export const RECOVERY_CODE_COUNT = 10;
const TOTP_PERIOD_S = 30;
const ISSUER = 'Gatehouse';

export const REAUTHENTICATION_REQUIRED_TYPE =
  'https://gatehouse.dev/problems/reauthentication-required';

export interface FactorSummary {
  id: string;
  type: MfaFactorType;
  name: string;
}

export interface FactorResponse extends FactorSummary {
  createdAt: string;
  lastUsedAt: string | null;
}

export interface MfaChallengeResponse {
  mfaRequired: true;
  mfaToken: string;
  factors: FactorSummary[];
}

/**
 * What a sign-in whose first step is proved (password, provider, confirm-link) does next: a
 * challenge for the second step when a factor is in force, else a session (an enrolment-only one
 * when a factor is required of this user and they have none).
 */
export type AfterFirstStep =
  | { kind: 'challenge'; challenge: MfaChallengeResponse }
  | { kind: 'session'; mfaEnrolment: boolean };

/** A second-factor answer: a TOTP code or a recovery code. */
export interface SecondFactorInput {
  code?: string;
  recoveryCode?: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** 80 random bits as 16 base32 characters, shown in groups of four. */
function newRecoveryCode(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join('-');
}

function normaliseRecoveryCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

function toSummary(f: MfaFactor): FactorSummary {
  return { id: f.id, type: f.type, name: f.name };
}

function toFactorResponse(f: MfaFactor): FactorResponse {
  return {
    ...toSummary(f),
    createdAt: f.createdAt.toISOString(),
    lastUsedAt: f.lastUsedAt?.toISOString() ?? null,
  };
}

/**
 * Second factors: TOTP (RFC 6238: 30 s, 6 digits, ±1 step, each step accepted once per factor),
 * recovery codes (ten, single use, stored hashed), the short-lived `mfaToken` of a two-step
 * sign-in, the "recent sign-in" rule, and who must have a factor (MFA_REQUIRED).
 */
@Injectable()
export class MfaService {
  constructor(
    private readonly config: AppConfig,
    private readonly db: Database,
    private readonly repo: MfaRepository,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
    private readonly mail: MailService,
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    private readonly requirements: MfaRequirements,
  ) {}

  // ---- who must have a factor, and which are in force ----

  factorsInForce(userId: string, tx?: Tx): Promise<MfaFactor[]> {
    return this.repo.confirmedFactors(userId, tx);
  }

  /**
   * Does this user have to hold a second factor? MFA_REQUIRED (`all`, or `admins` for an admin),
   * or a workspace of theirs with `mfaRequired` (through MfaRequirements).
   */
  async mustHaveFactor(user: User, tx?: Tx): Promise<boolean> {
    if (this.config.mfaRequired === 'all') return true;
    if (this.config.mfaRequired === 'admins' && user.role === 'admin') return true;
    return this.requirements.requiredFor(user.id, tx);
  }

  /**
   * The one rule every sign-in path follows once its first step is proved: with a factor in force
   * a challenge (no session yet), else a session, enrolment-only when a factor is required.
   * `amr` and `method` describe the first step and end up on the session.
   */
  async afterFirstStep(tx: Tx, user: User, amr: string, method: string): Promise<AfterFirstStep> {
    const factors = await this.repo.confirmedFactors(user.id, tx);
    if (factors.length > 0)
      return {
        kind: 'challenge',
        challenge: await this.startLoginChallenge(tx, user.id, factors, amr, method),
      };
    return { kind: 'session', mfaEnrolment: await this.mustHaveFactor(user, tx) };
  }

  async list(
    userId: string,
  ): Promise<{ items: FactorResponse[]; recoveryCodesLeft: number; required: boolean }> {
    const [factors, left, user] = await Promise.all([
      this.repo.confirmedFactors(userId),
      this.repo.recoveryCodesLeft(userId),
      this.users.requireUser(userId),
    ]);
    return {
      items: factors.map(toFactorResponse),
      recoveryCodesLeft: left,
      required: await this.mustHaveFactor(user),
    };
  }

  // ---- recent sign-in ----

  /** Sensitive self-service changes need a session whose sign-in is within REAUTH_MINUTES. */
  async requireRecentSignIn(principal: Principal): Promise<void> {
    const refuse = () =>
      new AppException(
        'unauthenticated',
        `This change needs a sign-in within the last ${this.config.reauthMinutes} minutes: re-authenticate (POST /api/v1/auth/reauthenticate) and try again.`,
        undefined,
        { type: REAUTHENTICATION_REQUIRED_TYPE },
      );
    if (principal.credential.kind !== 'session') throw refuse();
    const state = await this.sessions.authState(principal.userId, principal.credential.id);
    if (!state) throw AppException.unauthenticated();
    if (Date.now() - state.authTime.getTime() > this.config.reauthMinutes * 60_000) throw refuse();
  }

  // ---- TOTP enrolment ----

  async startTotp(
    principal: Principal,
    name: string | undefined,
  ): Promise<{ factorId: string; secret: string; otpauthUri: string }> {
    await this.requireRecentSignIn(principal);
    const user = await this.users.requireUser(principal.userId);
    const secret = generateSecret({ length: 20 });
    const factor = new MfaFactor();
    factor.id = newId();
    factor.userId = user.id;
    factor.type = 'totp';
    factor.name = name?.trim() || 'Authenticator app';
    const sealed = this.box.seal(secret, `mfa_factor:${factor.id}`);
    factor.secretKeyId = sealed.keyId;
    factor.secret = sealed.ciphertext;
    factor.credentialId = null;
    factor.publicKey = null;
    factor.signCount = null;
    factor.transports = null;
    factor.lastUsedStep = null;
    factor.confirmedAt = null;
    factor.createdAt = new Date();
    factor.lastUsedAt = null;
    await this.db.transaction(async (tx) => {
      await this.repo.insertFactor(tx, factor);
      await this.audit.record(tx, {
        actorId: user.id,
        action: 'mfa.totp.start',
        targetType: 'user',
        targetId: user.id,
        changes: { factorId: factor.id, name: factor.name },
      });
    });
    return {
      factorId: factor.id,
      secret,
      otpauthUri: generateURI({
        issuer: ISSUER,
        label: user.email ?? user.username ?? user.id,
        secret,
        period: TOTP_PERIOD_S,
        digits: 6,
      }),
    };
  }

  /** Checks a TOTP code against one factor; the time step it matched, or null. */
  private async matchTotp(factor: MfaFactor, code: string): Promise<number | null> {
    if (factor.type !== 'totp' || !factor.secret || !factor.secretKeyId) return null;
    if (!/^\d{6}$/.test(code)) return null;
    const secret = this.box.open(
      { keyId: factor.secretKeyId, ciphertext: factor.secret },
      `mfa_factor:${factor.id}`,
    );
    const result = await verifyTotp({
      secret,
      token: code,
      period: TOTP_PERIOD_S,
      epochTolerance: TOTP_PERIOD_S, // ±1 step
      ...(factor.lastUsedStep !== null ? { afterTimeStep: Number(factor.lastUsedStep) } : {}),
    });
    return result.valid && 'timeStep' in result ? result.timeStep : null;
  }

  async confirmTotp(
    principal: Principal,
    factorId: string,
    code: string,
  ): Promise<{ recoveryCodes: string[] }> {
    const factor = await this.repo.factor(principal.userId, factorId);
    if (!factor || factor.type !== 'totp') throw AppException.notFound('Factor');
    if (factor.confirmedAt) throw AppException.conflict('This factor is already confirmed.');
    const step = await this.matchTotp(factor, code);
    if (step === null) throw AppException.invalid('code', 'is not the current code of this factor');
    return this.db.transaction(async (tx) => {
      if (!(await this.repo.confirm(tx, factor.id, step, new Date())))
        throw AppException.conflict('This factor is already confirmed.');
      return this.afterEnrolment(tx, principal.userId, factor);
    });
  }

  /** A newly confirmed factor: recovery codes when it is the first, enrolment sessions freed. */
  async afterEnrolment(
    tx: Tx,
    userId: string,
    factor: MfaFactor,
  ): Promise<{ recoveryCodes: string[] }> {
    const inForce = await this.repo.confirmedFactors(userId, tx);
    const first = inForce.length === 1;
    const codes = first ? await this.issueRecoveryCodes(tx, userId) : [];
    await this.sessions.endEnrolment(tx, userId);
    await this.audit.record(tx, {
      actorId: userId,
      action: 'mfa.factor.add',
      targetType: 'user',
      targetId: userId,
      changes: {
        factorId: factor.id,
        type: factor.type,
        name: factor.name,
        recoveryCodesIssued: codes.length,
      },
    });
    return { recoveryCodes: codes };
  }

  private async issueRecoveryCodes(tx: Tx, userId: string): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    const now = new Date();
    await this.repo.replaceRecoveryCodes(
      tx,
      userId,
      codes.map((c) => {
        const row = new MfaRecoveryCode();
        row.id = newId();
        row.userId = userId;
        row.codeHash = sha256Hex(normaliseRecoveryCode(c));
        row.createdAt = now;
        row.usedAt = null;
        return row;
      }),
    );
    return codes;
  }

  async regenerateRecoveryCodes(principal: Principal): Promise<{ recoveryCodes: string[] }> {
    await this.requireRecentSignIn(principal);
    return this.db.transaction(async (tx) => {
      const inForce = await this.repo.confirmedFactors(principal.userId, tx);
      if (inForce.length === 0)
        throw AppException.rule(
          'no_factor',
          'Recovery codes come with a second factor: enrol one first.',
        );
      const codes = await this.issueRecoveryCodes(tx, principal.userId);
      await this.audit.record(tx, {
        actorId: principal.userId,
        action: 'mfa.recovery_codes.replace',
        targetType: 'user',
        targetId: principal.userId,
        changes: { count: codes.length },
      });
      return { recoveryCodes: codes };
    });
  }

  /** Removes a factor (the user's own after a recent sign-in, or an admin's doing); mails the user. */
  async removeFactor(actor: Principal, userId: string, factorId: string): Promise<void> {
    const self = actor.userId === userId;
    if (self) await this.requireRecentSignIn(actor);
    const user = await this.users.findById(userId);
    if (!user) throw AppException.notFound('User');
    const factor = await this.repo.factor(userId, factorId);
    if (!factor) throw AppException.notFound('Factor');
    await this.db.transaction(async (tx) => {
      if (!(await this.repo.deleteFactor(tx, factor.id))) throw AppException.notFound('Factor');
      const left = await this.repo.confirmedFactors(userId, tx);
      // Recovery codes stand in for a factor: with none left they would be a factor of their own.
      if (left.length === 0) await this.repo.replaceRecoveryCodes(tx, userId, []);
      await this.audit.record(tx, {
        actorId: actor.userId,
        action: 'mfa.factor.remove',
        targetType: 'user',
        targetId: userId,
        changes: {
          factorId: factor.id,
          type: factor.type,
          name: factor.name,
          byAdmin: !self,
          factorsLeft: left.length,
        },
      });
    });
    if (factor.confirmedAt && user.email) {
      this.mail.sendInBackground({
        to: user.email,
        subject: 'A sign-in factor was removed from your Gatehouse account',
        text: `The ${factor.type === 'totp' ? 'authenticator app' : 'passkey'} "${factor.name}" was removed from your Gatehouse account${self ? '' : ' by an administrator'} on ${new Date().toISOString()}.\n\nIf this was not you or someone you expected, contact your administrator.`,
      });
    }
  }

  // ---- the two-step sign-in ----

  async startLoginChallenge(
    tx: Tx,
    userId: string,
    factors: MfaFactor[],
    amr: string,
    method: string,
  ): Promise<MfaChallengeResponse> {
    const token = generateToken(MFA_TOKEN_PREFIX);
    await this.insertChallenge(tx, userId, 'login', sha256Hex(token), null, amr, method);
    return { mfaRequired: true, mfaToken: token, factors: factors.map(toSummary) };
  }

  async insertChallenge(
    tx: Tx,
    userId: string | null,
    purpose: MfaChallengePurpose,
    tokenHash: string,
    challenge: string | null,
    amr: string | null,
    method: string | null = null,
  ): Promise<MfaChallenge> {
    const now = new Date();
    await this.repo.deleteExpiredChallenges(tx, new Date(now.getTime() - 3_600_000));
    const row = new MfaChallenge();
    row.id = newId();
    row.userId = userId;
    row.purpose = purpose;
    row.tokenHash = tokenHash;
    row.challenge = challenge;
    row.amr = amr;
    row.method = method;
    row.attempts = 0;
    row.expiresAt = new Date(now.getTime() + MFA_TOKEN_MINUTES * 60_000);
    row.usedAt = null;
    row.createdAt = now;
    await this.repo.insertChallenge(tx, row);
    return row;
  }

  /**
   * Takes one attempt of an mfaToken (committed at once, whatever follows): the live challenge, or
   * null when it is unknown, expired, spent or out of attempts.
   */
  async takeLoginAttempt(mfaToken: string): Promise<MfaChallenge | null> {
    if (!mfaToken.startsWith(MFA_TOKEN_PREFIX) || mfaToken.length > 200) return null;
    const row = await this.repo.challengeByHash(sha256Hex(mfaToken));
    if (!row || row.purpose !== 'login' || !row.userId) return null;
    const ok = await this.db.transaction((tx) => this.repo.takeAttempt(tx, row.id, new Date()));
    return ok ? row : null;
  }

  /**
   * The live login challenge of an mfaToken without taking an attempt (the passkey options step),
   * or null when it is unknown, expired, spent or out of attempts.
   */
  async liveLoginChallenge(mfaToken: string): Promise<MfaChallenge | null> {
    if (!mfaToken.startsWith(MFA_TOKEN_PREFIX) || mfaToken.length > 200) return null;
    const row = await this.repo.challengeByHash(sha256Hex(mfaToken));
    if (!row || row.purpose !== 'login' || !row.userId) return null;
    if (row.usedAt || row.expiresAt <= new Date() || row.attempts >= MFA_TOKEN_ATTEMPTS)
      return null;
    return row;
  }

  /** Binds a WebAuthn challenge to a login challenge (the latest options call wins). */
  async bindWebAuthnChallenge(id: string, challenge: string): Promise<void> {
    await this.db.transaction((tx) => this.repo.setChallenge(tx, id, challenge));
  }

  spendChallenge(tx: Tx, id: string): Promise<boolean> {
    return this.repo.spendChallenge(tx, id, new Date());
  }

  /**
   * Checks a TOTP or recovery code of the user and spends it (a code works once). Returns the amr
   * value it proves (`otp`), or null when it is wrong, replayed or used.
   */
  async verifySecondFactor(
    tx: Tx,
    userId: string,
    input: SecondFactorInput,
  ): Promise<{ amr: string; factorId: string | null } | null> {
    const now = new Date();
    if (input.code !== undefined) {
      const code = input.code.replace(/\s/g, '');
      for (const factor of await this.repo.confirmedFactors(userId, tx)) {
        const step = await this.matchTotp(factor, code);
        if (step !== null && (await this.repo.spendStep(tx, factor.id, step, now)))
          return { amr: 'otp', factorId: factor.id };
      }
      return null;
    }
    if (input.recoveryCode !== undefined) {
      const hash = sha256Hex(normaliseRecoveryCode(input.recoveryCode));
      if (await this.repo.spendRecoveryCode(tx, userId, hash, now)) {
        await this.audit.record(tx, {
          actorId: userId,
          action: 'mfa.recovery_code.use',
          targetType: 'user',
          targetId: userId,
          changes: { left: await this.repo.recoveryCodesLeft(userId, tx) },
        });
        return { amr: 'otp', factorId: null };
      }
    }
    return null;
  }
}
