import { Module } from '@nestjs/common';
import { HookhubModule } from '@hookhub/sdk/nestjs';
import { SETTINGS, settingsFromEnv, type Settings } from './settings';
import { TicketsService } from './tickets.service';

@Module({ providers: [{ provide: SETTINGS, useFactory: () => settingsFromEnv() }], exports: [SETTINGS] })
class SettingsModule {}

@Module({
  imports: [
    HookhubModule.forRootAsync({
      imports: [SettingsModule],
      inject: [SETTINGS],
      useFactory: (settings: Settings) => ({ baseUrl: settings.hookhubUrl, apiKey: settings.apiKey, timeoutMs: 10_000 }),
    }),
    SettingsModule,
  ],
  providers: [TicketsService],
})
export class AppModule {}
