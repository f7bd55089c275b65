import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { credentialOf } from '#src/kernel/auth.guard.js';
import { CredentialRegistry } from '#src/kernel/credential-registry.js';

/** Whether a page request carries a valid session cookie (the app itself checks permissions). */
@Injectable()
export class ConsoleSession {
  constructor(private readonly registry: CredentialRegistry) {}

  async signedIn(req: FastifyRequest): Promise<boolean> {
    const credential = credentialOf(req);
    if (!credential || credential.via !== 'cookie' || credential.token === '') return false;
    const resolver = this.registry.find(credential.token);
    if (!resolver || resolver.kind !== 'session') return false;
    return (await resolver.resolve(credential.token, 'cookie')) !== null;
  }
}
