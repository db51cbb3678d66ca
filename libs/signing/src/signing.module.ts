import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SecretVault } from './secret-vault';

/** Provides the vault built from `SECRETS_ENCRYPTION_KEY`, validated at start-up. */
@Module({
  providers: [
    {
      provide: SecretVault,
      inject: [ConfigService],
      useFactory: (config: ConfigService<{ SECRETS_ENCRYPTION_KEY: string }, true>) => new SecretVault(config.get('SECRETS_ENCRYPTION_KEY', { infer: true })),
    },
  ],
  exports: [SecretVault],
})
export class SigningModule {}
