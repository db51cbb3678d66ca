import { Module } from '@nestjs/common';
import { PersistenceModule } from '@hookhub/persistence';
import { EndpointVerifier } from './endpoint-verifier';
import { RedeliveryService } from './redelivery.service';
import { TestPing } from './test-ping';
import { WebhookClientModule } from './webhook-client.module';

/** What the admin API needs of the delivery domain: verification, test pings and redelivery. */
@Module({
  imports: [PersistenceModule, WebhookClientModule],
  providers: [EndpointVerifier, TestPing, RedeliveryService],
  exports: [EndpointVerifier, TestPing, RedeliveryService],
})
export class EndpointToolsModule {}
