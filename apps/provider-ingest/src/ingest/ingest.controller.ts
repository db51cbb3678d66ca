import { All, Controller, HttpStatus, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CallbackReceiver, IncomingCallback, ReceiveOutcome } from '@hookhub/ingest';
import { ProblemException, Problems } from '@hookhub/platform';
import { traceOfRequest } from '@hookhub/tracing';
import { IngestMetrics } from './ingest.metrics';
import { TrustProxy } from './trust-proxy';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `/ingest/<provider>/<connectionId>`: where providers send their callbacks. */
@ApiExcludeController()
@Controller('ingest')
export class IngestController {
  constructor(
    private readonly receiver: CallbackReceiver,
    private readonly metrics: IngestMetrics,
    private readonly trustProxy: TrustProxy,
  ) {}

  @All(':provider/:connectionId')
  async receive(@Param('provider') provider: string, @Param('connectionId') connectionId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.setHeader('Allow', 'GET, POST');
      throw Problems.methodNotAllowed(`${req.method} is not accepted here; providers call with POST (or GET for handshakes)`);
    }
    if (!UUID.test(connectionId)) throw Problems.notFound('Provider connection');
    const outcome = await this.receiver.receive(provider, connectionId.toLowerCase(), this.incoming(req));
    this.metrics.count(provider, outcome.kind);
    this.answer(res, outcome);
  }

  private incoming(req: Request): IncomingCallback {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const forwarded = (name: string): string | undefined => (this.trustProxy.enabled ? headers[name]?.split(',')[0]?.trim() : undefined);
    const proto = forwarded('x-forwarded-proto') ?? req.protocol;
    const host = forwarded('x-forwarded-host') ?? headers.host ?? 'localhost';
    return {
      method: req.method,
      originalUrl: req.originalUrl,
      origin: `${proto}://${host}`,
      headers,
      rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      trace: traceOfRequest(req),
    };
  }

  private answer(res: Response, outcome: ReceiveOutcome): void {
    switch (outcome.kind) {
      case 'not_found':
        throw Problems.notFound('Provider connection');
      case 'method_not_allowed':
        res.setHeader('Allow', 'POST');
        throw Problems.methodNotAllowed('This provider calls with POST only');
      case 'unauthorized':
        throw Problems.unauthorized(`The callback's signature could not be verified: ${outcome.reason}`);
      case 'unavailable':
        throw Problems.unavailable(`The callback's signature cannot be checked right now (${outcome.reason}); retry later`);
      case 'malformed':
        throw Problems.malformedCallback(`The callback could not be read: ${outcome.detail}`);
      case 'unsupported_media_type':
        // Same type as the admin APIs' 415, so clients branch on one problem type.
        throw new ProblemException(
          HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          'unsupported-media-type',
          'Unsupported media type',
          `The callback's body is not what it declares: ${outcome.detail}`,
        );
      case 'reply':
        res.status(outcome.reply.status).type(outcome.reply.contentType).send(outcome.reply.body);
        return;
      case 'accepted':
        res.status(200).json({ received: true, duplicate: outcome.duplicate });
        return;
    }
  }
}
