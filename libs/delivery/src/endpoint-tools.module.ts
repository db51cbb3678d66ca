import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DELIVERY_SETTINGS, deliverySettings } from './delivery.settings';
import { EndpointVerifier } from './endpoint-verifier';
import { RedeliveryService } from './redelivery.service';
import { TestPing } from './test-ping';
import { WebhookRequestBuilder } from './webhook-request';

/** What the admin API needs of the delivery domain: verification, test pings and redelivery. */
@Module({
  providers: [
    { provide: DELIVERY_SETTINGS, inject: [ConfigService], useFactory: deliverySettings },
    WebhookRequestBuilder,
    EndpointVerifier,
    TestPing,
    RedeliveryService,
  ],
  exports: [EndpointVerifier, TestPing, RedeliveryService],
})
export class EndpointToolsModule {}
