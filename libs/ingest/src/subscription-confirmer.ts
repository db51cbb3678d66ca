import { Injectable } from '@nestjs/common';
import { request } from 'undici';

/**
 * Confirms an SNS subscription by fetching its SubscribeURL. The adapter has
 * already checked that the URL belongs to SNS and that the message was signed.
 */
@Injectable()
export class SubscriptionConfirmer {
  async confirm(url: string): Promise<void> {
    const res = await request(url, { method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 });
    await res.body.dump({ limit: 64 * 1024 });
    if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`subscription confirmation answered ${res.statusCode}`);
  }
}
