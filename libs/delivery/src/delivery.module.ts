import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EventStoreModule } from '@hookhub/event-store';
import { DeliveryExecutor } from './delivery-executor';
import { DELIVERY_SETTINGS, deliverySettings } from './delivery.settings';
import { DispatchPipeline } from './dispatch-pipeline';
import { FanOutService } from './fan-out.service';
import { SenderPermissions } from './sender-permissions';

@Module({
  imports: [EventStoreModule],
  providers: [
    { provide: DELIVERY_SETTINGS, inject: [ConfigService], useFactory: deliverySettings },
    SenderPermissions,
    DeliveryExecutor,
    FanOutService,
    DispatchPipeline,
  ],
  exports: [DELIVERY_SETTINGS, DeliveryExecutor, DispatchPipeline, FanOutService],
})
export class DeliveryModule {}
