import { Inject, Injectable, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SigningModule } from '@hookhub/signing';
import { WEBHOOK_CLIENT_SETTINGS, WebhookClientSettings, webhookClientSettings } from './delivery.settings';
import { WebhookRequestBuilder } from './webhook-request';
import { WebhookSender } from './webhook-sender';

/** Makes every WebhookSender of an app, so each one applies the app's address policy and timeout. */
@Injectable()
export class WebhookSenderFactory {
  constructor(@Inject(WEBHOOK_CLIENT_SETTINGS) private readonly settings: WebhookClientSettings) {}

  /** A sender with its own connection pool (`connections` per origin), closed by its owner. */
  create(options: { connections: number; timeoutMs?: number }): WebhookSender {
    return new WebhookSender({
      timeoutMs: options.timeoutMs ?? this.settings.timeoutMs,
      allowInsecureTargets: this.settings.allowInsecureTargets,
      connections: options.connections,
    });
  }
}

/** How an app talks to endpoints: the sender factory and the signed request headers. */
@Module({
  imports: [SigningModule],
  providers: [{ provide: WEBHOOK_CLIENT_SETTINGS, inject: [ConfigService], useFactory: webhookClientSettings }, WebhookSenderFactory, WebhookRequestBuilder],
  exports: [WebhookSenderFactory, WebhookRequestBuilder],
})
export class WebhookClientModule {}
