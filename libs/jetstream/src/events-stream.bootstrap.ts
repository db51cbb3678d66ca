import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { StreamProvisioner } from './stream-provisioner';

/** For apps that publish events: the events stream must exist before the first publish is accepted. */
@Injectable()
export class EventsStreamBootstrap implements OnApplicationBootstrap {
  constructor(private readonly provisioner: StreamProvisioner) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.provisioner.ensureEventsStream();
  }
}
