import { Injectable } from '@nestjs/common';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { AppConfig } from '#src/config/config.js';
import { AppException } from '#src/common/errors/app.exception.js';
import { sha256Hex } from '#src/crypto/tokens.js';
import { Database } from '#src/database/database.service.js';
import { newId } from '#src/database/ids.js';
import { UsersService } from '#src/users/users.service.js';
import type { User } from '#src/users/user.entity.js';
import type { Principal } from '#src/kernel/principal.js';
import { MfaService } from '#src/auth/mfa/mfa.service.js';
import { MfaRepository } from '#src/auth/mfa/mfa.repository.js';
import { MfaFactor } from '#src/auth/mfa/entities/mfa-factor.entity.js';
import type { MfaChallengePurpose } from '#src/auth/mfa/entities/mfa-challenge.entity.js';

/** The challenge a WebAuthn response answers, read from its clientDataJSON (null when unreadable). */
function challengeOf(response: unknown): string | null {
  try {
    const r = response as { response?: { clientDataJSON?: unknown } };
    const raw = r.response?.clientDataJSON;
    if (typeof raw !== 'string' || raw.length > 4096) return null;
    const parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as {
      challenge?: unknown;
    };
    return typeof parsed.challenge === 'string' && parsed.challenge.length <= 128
      ? parsed.challenge
      : null;
  } catch {
    return null;
  }
}

/**
 * WebAuthn passkeys (@simplewebauthn/server): registration as a factor (discoverable credential,
 * user verification preferred) and passwordless sign-in. The relying party is PUBLIC_URL's host;
 * the expected origin its origin. Each challenge is stored hashed, lives 5 minutes, works once.
 */
@Injectable()
export class WebAuthnService {
  private readonly rpID: string;
  private readonly origin: string;

  constructor(
    config: AppConfig,
    private readonly db: Database,
    private readonly users: UsersService,
    private readonly mfa: MfaService,
    private readonly repo: MfaRepository,
  ) {
    const url = new URL(config.publicUrl);
    this.rpID = url.hostname;
    this.origin = url.origin;
  }

  private async saveChallenge(
    userId: string | null,
    purpose: MfaChallengePurpose,
    challenge: string,
  ): Promise<void> {
    await this.db.transaction((tx) =>
      this.mfa.insertChallenge(tx, userId, purpose, sha256Hex(challenge), challenge, null),
    );
  }

  /** Spends the stored challenge a response answers; its row, or null. */
  private async spendChallenge(
    response: unknown,
    purpose: MfaChallengePurpose,
    userId: string | null,
  ): Promise<string | null> {
    const challenge = challengeOf(response);
    if (!challenge) return null;
    const row = await this.repo.challengeByHash(sha256Hex(challenge));
    if (!row || row.purpose !== purpose || row.expiresAt <= new Date()) return null;
    if (userId !== null && row.userId !== userId) return null;
    const spent = await this.db.transaction((tx) => this.mfa.spendChallenge(tx, row.id));
    return spent ? challenge : null;
  }

  async registrationOptions(principal: Principal): Promise<PublicKeyCredentialCreationOptionsJSON> {
    await this.mfa.requireRecentSignIn(principal);
    const user = await this.users.requireUser(principal.userId);
    const existing = await this.repo.confirmedFactors(user.id);
    const options = await (
      await webauthn()
    ).generateRegistrationOptions({
      rpName: 'Gatehouse',
      rpID: this.rpID,
      userName: user.email ?? user.username ?? user.id,
      userDisplayName: user.fullName ?? user.email ?? user.id,
      userID: new TextEncoder().encode(user.id),
      attestationType: 'none',
      excludeCredentials: existing
        .filter((f) => f.type === 'webauthn' && f.credentialId)
        .map((f) => ({ id: f.credentialId! })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
    });
    await this.saveChallenge(user.id, 'webauthn_register', options.challenge);
    return options;
  }

  async register(
    principal: Principal,
    name: string | undefined,
    response: Record<string, unknown>,
  ): Promise<{ factorId: string; recoveryCodes: string[] }> {
    await this.mfa.requireRecentSignIn(principal);
    const challenge = await this.spendChallenge(response, 'webauthn_register', principal.userId);
    if (!challenge) throw AppException.invalid('response', 'answers no pending challenge');
    let verified;
    try {
      verified = await (
        await webauthn()
      ).verifyRegistrationResponse({
        response: response as unknown as RegistrationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.origin,
        expectedRPID: this.rpID,
        requireUserVerification: false,
      });
    } catch (err) {
      throw AppException.invalid(
        'response',
        `is not a valid registration: ${(err as Error).message}`,
      );
    }
    if (!verified.verified) throw AppException.invalid('response', 'could not be verified');
    const cred = verified.registrationInfo.credential;
    const factor = new MfaFactor();
    factor.id = newId();
    factor.userId = principal.userId;
    factor.type = 'webauthn';
    factor.name = name?.trim() || 'Passkey';
    factor.secretKeyId = null;
    factor.secret = null;
    factor.credentialId = cred.id;
    factor.publicKey = Buffer.from(cred.publicKey).toString('base64url');
    factor.signCount = String(cred.counter);
    factor.transports = cred.transports?.join(',') ?? null;
    factor.lastUsedStep = null;
    factor.confirmedAt = new Date();
    factor.createdAt = factor.confirmedAt;
    factor.lastUsedAt = null;
    const out = await this.db.transaction(async (tx) => {
      try {
        await this.repo.insertFactor(tx, factor);
      } catch {
        throw AppException.conflict('This passkey is already registered.', 'response');
      }
      return this.mfa.afterEnrolment(tx, principal.userId, factor);
    });
    return { factorId: factor.id, recoveryCodes: out.recoveryCodes };
  }

  /**
   * Passwordless sign-in options. User verification is required: a passkey that proved both
   * possession (the key) and the person (the authenticator's PIN or biometric) is multi-factor on
   * its own, which is why this sign-in asks for no further step.
   */
  async authenticationOptions(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await (
      await webauthn()
    ).generateAuthenticationOptions({
      rpID: this.rpID,
      userVerification: 'required',
    });
    await this.saveChallenge(null, 'passkey_login', options.challenge);
    return options;
  }

  /**
   * Verifies a passkey assertion for sign-in; the user it proves, or null (any failure: the caller
   * answers the sign-in 401).
   */
  async authenticate(response: Record<string, unknown>): Promise<User | null> {
    const challenge = await this.spendChallenge(response, 'passkey_login', null);
    if (!challenge || typeof response['id'] !== 'string') return null;
    const factor = await this.repo.factorByCredentialId(response['id']);
    if (!factor || factor.type !== 'webauthn' || !factor.publicKey) return null;
    if (!(await this.verifyAssertion(factor, response, challenge, true))) return null;
    return this.users.findById(factor.userId);
  }

  /**
   * The options of a passkey as the second step of a sign-in: the user's passkeys as the allow
   * list, the challenge bound to the mfaToken's login challenge (null: the token is not live, or
   * the user has no passkey).
   */
  async secondStepOptions(mfaToken: string): Promise<PublicKeyCredentialRequestOptionsJSON | null> {
    const login = await this.mfa.liveLoginChallenge(mfaToken);
    if (!login?.userId) return null;
    const passkeys = (await this.repo.confirmedFactors(login.userId)).filter(
      (f) => f.type === 'webauthn' && f.credentialId,
    );
    // No passkey to ask for: an empty allow list would let the browser offer any passkey.
    if (passkeys.length === 0) return null;
    const options = await (
      await webauthn()
    ).generateAuthenticationOptions({
      rpID: this.rpID,
      userVerification: 'preferred',
      allowCredentials: passkeys.map((f) => ({
        id: f.credentialId!,
        ...(f.transports ? { transports: f.transports.split(',') } : {}),
      })),
    });
    await this.mfa.bindWebAuthnChallenge(login.id, options.challenge);
    return options;
  }

  /**
   * Checks a passkey assertion as the second step: one of this user's passkeys answering the
   * challenge bound to the login challenge. True when it holds (its counter is then updated).
   */
  async verifySecondStep(
    userId: string,
    expectedChallenge: string | null,
    response: Record<string, unknown>,
  ): Promise<boolean> {
    if (!expectedChallenge || typeof response['id'] !== 'string') return false;
    const factor = await this.repo.factorByCredentialId(response['id']);
    if (!factor || factor.userId !== userId || factor.type !== 'webauthn' || !factor.publicKey)
      return false;
    return this.verifyAssertion(factor, response, expectedChallenge, false);
  }

  private async verifyAssertion(
    factor: MfaFactor,
    response: Record<string, unknown>,
    challenge: string,
    requireUserVerification: boolean,
  ): Promise<boolean> {
    if (!factor.confirmedAt || !factor.publicKey) return false;
    let result;
    try {
      result = await (
        await webauthn()
      ).verifyAuthenticationResponse({
        response: response as unknown as AuthenticationResponseJSON,
        expectedChallenge: challenge,
        expectedOrigin: this.origin,
        expectedRPID: this.rpID,
        credential: {
          id: factor.credentialId!,
          publicKey: Buffer.from(factor.publicKey, 'base64url'),
          counter: Number(factor.signCount ?? 0),
          ...(factor.transports ? { transports: factor.transports.split(',') } : {}),
        },
        requireUserVerification,
      });
    } catch {
      return false;
    }
    if (!result.verified) return false;
    await this.db.transaction((tx) =>
      this.repo.touchFactor(tx, factor.id, new Date(), result.authenticationInfo.newCounter),
    );
    return true;
  }
}

/**
 * @simplewebauthn/server (with its CBOR and ASN.1 parsers, about 9 MB of a process's memory) is
 * loaded when the first passkey is registered or used, not by every process at start-up.
 */
let library: Promise<typeof import('@simplewebauthn/server')> | null = null;
function webauthn(): Promise<typeof import('@simplewebauthn/server')> {
  library ??= import('@simplewebauthn/server');
  return library;
}
