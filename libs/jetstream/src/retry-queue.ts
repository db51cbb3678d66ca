import { Inject, Injectable } from '@nestjs/common';
import { RetryJob, retryMsgId } from '@hookhub/contracts';
import { JETSTREAM_SETTINGS, JetstreamSettings } from './jetstream.config';
import { JetstreamConnection } from './jetstream-connection';

const encoder = new TextEncoder();

/** Puts delivery attempts on the retries stream; resolves once JetStream stored the job. */
@Injectable()
export class RetryQueue {
  constructor(
    private readonly connection: JetstreamConnection,
    @Inject(JETSTREAM_SETTINGS) private readonly settings: JetstreamSettings,
  ) {}

  async enqueue(job: RetryJob): Promise<void> {
    await this.connection.js.publish(this.settings.subjects.retry(job.subscription_id), encoder.encode(JSON.stringify(job)), {
      msgID: retryMsgId(job),
      timeout: 10_000,
    });
  }
}
