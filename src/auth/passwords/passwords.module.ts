import { Module } from '@nestjs/common';
import { PasswordService } from './password.service.js';

/** Shared by auth (sign-in) and users (admin-set passwords) without a module cycle. */
@Module({ providers: [PasswordService], exports: [PasswordService] })
export class PasswordsModule {}
