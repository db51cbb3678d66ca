import { randomUUID, sign as rsaSign } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import type { SignedRequest } from './signed-request';

/** An SNS HTTP message before SNS adds `SignatureVersion`, `Signature` and `SigningCertURL`. */
export interface UnsignedSnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
  UnsubscribeURL?: string;
}

export type SignedSnsMessage = UnsignedSnsMessage & { SignatureVersion: string; Signature: string; SigningCertURL: string };

export interface SnsSignOptions {
  /** '1' = SHA1withRSA (SNS default), '2' = SHA256withRSA. */
  signatureVersion?: '1' | '2';
}

export interface SnsSigner {
  /** `http://127.0.0.1:<port>/SimpleNotificationService-<hex>.pem` */
  certUrl: string;
  certificatePem: string;
  /** How many times the certificate has been downloaded. */
  readonly certificateDownloads: number;
  /** ConfirmSubscription URLs the hub has fetched, in order. */
  readonly confirmations: readonly string[];
  /** A SubscribeURL on this server, shaped like SNS's. */
  subscribeUrl(topicArn: string, token?: string): string;
  /** The JSON body SNS would POST for `message`, signed with this server's key. */
  sign(message: UnsignedSnsMessage, options?: SnsSignOptions): Buffer;
  signedMessage(message: UnsignedSnsMessage, options?: SnsSignOptions): SignedSnsMessage;
  /** The whole POST as SNS sends it (text/plain JSON plus the x-amz-sns-* headers). */
  request(url: string, message: UnsignedSnsMessage, options?: SnsSignOptions): SignedRequest;
  close(): Promise<void>;
}

export interface SnsSignerOptions {
  /** Certificate validity; defaults to a minute ago … a year later. */
  notBeforeDate?: Date;
  notAfterDate?: Date;
}

/** Fields of the string to sign, in AWS's documented order. */
const SIGNED_KEYS: Record<UnsignedSnsMessage['Type'], readonly (keyof UnsignedSnsMessage)[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

export function snsStringToSign(message: UnsignedSnsMessage): string {
  return SIGNED_KEYS[message.Type]
    .filter((key) => message[key] !== undefined)
    .map((key) => `${key}\n${message[key]}\n`)
    .join('');
}

/**
 * Starts a loopback HTTP server that plays SNS's part: it serves a fresh
 * self-signed certificate at a `.pem` URL, signs messages with its key and
 * records ConfirmSubscription visits. Adapters must be built with
 * `allowHttpCertificates: true` and `certificateHost: /^127\.0\.0\.1$/`.
 */
export async function startSnsSigner(options: SnsSignerOptions = {}): Promise<SnsSigner> {
  const pems = await generate([{ name: 'commonName', value: 'sns.amazonaws.com' }], {
    keySize: 2048,
    algorithm: 'sha256',
    // A minute of slack: the certificate's second-precision start must not lie after "now".
    notBeforeDate: options.notBeforeDate ?? new Date(Date.now() - 60_000),
    notAfterDate: options.notAfterDate,
  });
  const certPath = `/SimpleNotificationService-${randomUUID().replace(/-/g, '')}.pem`;
  let downloads = 0;
  const confirmations: string[] = [];

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === certPath) {
      downloads += 1;
      res.writeHead(200, { 'content-type': 'application/x-x509-ca-cert' }).end(pems.cert);
    } else if (req.method === 'GET' && url.searchParams.get('Action') === 'ConfirmSubscription') {
      confirmations.push(`${origin}${req.url ?? '/'}`);
      res.writeHead(200, { 'content-type': 'text/xml' }).end(confirmResponse(url.searchParams.get('TopicArn') ?? ''));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const certUrl = `${origin}${certPath}`;

  const signedMessage = (message: UnsignedSnsMessage, signOptions: SnsSignOptions = {}): SignedSnsMessage => {
    const version = signOptions.signatureVersion ?? '1';
    const signature = rsaSign(version === '1' ? 'sha1' : 'sha256', Buffer.from(snsStringToSign(message), 'utf8'), pems.private);
    return inSnsOrder({ ...message, SignatureVersion: version, Signature: signature.toString('base64'), SigningCertURL: certUrl });
  };
  const sign = (message: UnsignedSnsMessage, signOptions?: SnsSignOptions): Buffer =>
    Buffer.from(JSON.stringify(signedMessage(message, signOptions), null, 2), 'utf8');

  return {
    certUrl,
    certificatePem: pems.cert,
    get certificateDownloads() {
      return downloads;
    },
    confirmations,
    subscribeUrl: (topicArn, token = randomUUID().replace(/-/g, '')) =>
      `${origin}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(topicArn)}&Token=${token}`,
    sign,
    signedMessage,
    request: (url, message, signOptions) => ({
      method: 'POST',
      url,
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        'user-agent': 'Amazon Simple Notification Service Agent',
        'x-amz-sns-message-type': message.Type,
        'x-amz-sns-message-id': message.MessageId,
        'x-amz-sns-topic-arn': message.TopicArn,
      },
      body: sign(message, signOptions),
    }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** SNS's own field order, so bodies look like the real thing. */
function inSnsOrder(message: SignedSnsMessage): SignedSnsMessage {
  const order: (keyof SignedSnsMessage)[] = [
    'Type',
    'MessageId',
    'Token',
    'TopicArn',
    'Subject',
    'Message',
    'SubscribeURL',
    'Timestamp',
    'SignatureVersion',
    'Signature',
    'SigningCertURL',
    'UnsubscribeURL',
  ];
  const out: Record<string, string> = {};
  for (const key of order) if (message[key] !== undefined) out[key] = message[key] as string;
  return out as unknown as SignedSnsMessage;
}

function confirmResponse(topicArn: string): string {
  return `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${topicArn}:${randomUUID()}</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`;
}

/** An SNS Notification carrying an SES event (`sesEvent` is JSON-encoded into `Message`, as SNS does). */
export function snsNotification(sesEvent: unknown, fields: { topicArn: string; messageId?: string; timestamp?: string; subject?: string }): UnsignedSnsMessage {
  const message: UnsignedSnsMessage = {
    Type: 'Notification',
    MessageId: fields.messageId ?? randomUUID(),
    TopicArn: fields.topicArn,
    Message: typeof sesEvent === 'string' ? sesEvent : JSON.stringify(sesEvent),
    Timestamp: fields.timestamp ?? new Date().toISOString(),
    UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${fields.topicArn}:${randomUUID()}`,
  };
  if (fields.subject !== undefined) message.Subject = fields.subject;
  return message;
}

export function snsSubscriptionConfirmation(
  type: 'SubscriptionConfirmation' | 'UnsubscribeConfirmation',
  fields: { topicArn: string; subscribeUrl: string; token?: string; messageId?: string; timestamp?: string },
): UnsignedSnsMessage {
  const token = fields.token ?? new URL(fields.subscribeUrl).searchParams.get('Token') ?? randomUUID();
  const text =
    type === 'SubscriptionConfirmation'
      ? `You have chosen to subscribe to the topic ${fields.topicArn}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`
      : `You have chosen to deactivate subscription ${fields.topicArn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`;
  return {
    Type: type,
    MessageId: fields.messageId ?? randomUUID(),
    Token: token,
    TopicArn: fields.topicArn,
    Message: text,
    SubscribeURL: fields.subscribeUrl,
    Timestamp: fields.timestamp ?? new Date().toISOString(),
  };
}

/**
 * AWS's documented classic bounce notification ("Bounce notification with a
 * DSN", SES Developer Guide, notification-examples), without the optional
 * original headers.
 */
export const SES_BOUNCE_NOTIFICATION = {
  notificationType: 'Bounce',
  bounce: {
    bounceType: 'Permanent',
    reportingMTA: 'dns; email.example.com',
    bouncedRecipients: [{ emailAddress: 'jane@example.com', status: '5.1.1', action: 'failed', diagnosticCode: 'smtp; 550 5.1.1 <jane@example.com>... User' }],
    bounceSubType: 'General',
    timestamp: '2016-01-27T14:59:38.237Z',
    feedbackId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000',
    remoteMtaIp: '127.0.2.0',
  },
  mail: {
    timestamp: '2016-01-27T14:59:38.237Z',
    source: 'john@example.com',
    sourceArn: 'arn:aws:ses:us-east-1:888888888888:identity/example.com',
    sourceIp: '127.0.3.0',
    sendingAccountId: '123456789012',
    callerIdentity: 'IAM_user_or_role_name',
    messageId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000',
    destination: ['jane@example.com', 'mary@example.com', 'richard@example.com'],
  },
};

/** AWS's delivery notification example (SES announcement of delivery notifications / Developer Guide). */
export const SES_DELIVERY_NOTIFICATION = {
  notificationType: 'Delivery',
  mail: {
    timestamp: '2014-05-28T22:40:59.638Z',
    messageId: '0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000',
    source: 'test@ses-example.com',
    destination: ['success@simulator.amazonses.com', 'recipient@ses-example.com'],
  },
  delivery: {
    timestamp: '2014-05-28T22:41:01.184Z',
    recipients: ['success@simulator.amazonses.com'],
    processingTimeMillis: 826,
    reportingMTA: 'a8-70.smtp-out.amazonses.com',
    smtpResponse: '250 ok:  Message 64111812 accepted',
  },
};

/** AWS's event-publishing Bounce record (event-publishing-retrieving-sns-examples), headers trimmed. */
export const SES_BOUNCE_EVENT = {
  eventType: 'Bounce',
  bounce: {
    bounceType: 'Permanent',
    bounceSubType: 'General',
    bouncedRecipients: [{ emailAddress: 'recipient@example.com', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
    timestamp: '2017-08-05T00:41:02.669Z',
    feedbackId: '01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000',
    reportingMTA: 'dsn; mta.example.com',
  },
  mail: {
    timestamp: '2017-08-05T00:40:02.012Z',
    source: 'Sender Name <sender@example.com>',
    sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/sender@example.com',
    sendingAccountId: '123456789012',
    messageId: 'EXAMPLE7c191be45-e9aedb9a-02f9-4d12-a87d-dd0099a07f8a-000000',
    destination: ['recipient@example.com'],
    headersTruncated: false,
    tags: { 'ses:configuration-set': ['ConfigSet'] },
  },
};
