import { Module } from '@nestjs/common';
import { PasswordService } from '#src/crypto/password.service.js';
import { SecretBox } from '#src/crypto/secret-box.js';

/** Password hashing (bcrypt on worker threads) and secret sealing, for every module that needs them. */
@Module({ providers: [PasswordService, SecretBox], exports: [PasswordService, SecretBox] })
export class CryptoModule {}
