import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { ArchiveTarget, checkedArchiveKey } from './archive-target';

export interface S3ArchiveTargetOptions {
  bucket: string;
  /** Prepended to every key (`hookhub/2026/11/01/...`); no leading or trailing slash. Empty: the bucket's root. */
  prefix?: string;
  /** An S3-compatible service (MinIO, Ceph, a cloud's S3 endpoint); unset: AWS S3. */
  endpoint?: string;
  /** Unset: the SDK's own chain (AWS_REGION, the shared config file). */
  region?: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`; most self-hosted services need it. */
  forcePathStyle?: boolean;
  /** Size of each part of a multipart upload (at least 5 MiB); memory use is about four parts. */
  partSize?: number;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;

/**
 * Archives in an S3 bucket, through the AWS SDK v3. Credentials come from the SDK's default chain
 * (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, web identity, instance or task roles).
 * Files of unknown length are streamed as multipart uploads; S3 makes an object visible only when
 * its upload completes, and a failed upload is aborted, so `put` never leaves part of a file.
 */
export class S3ArchiveTarget implements ArchiveTarget {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly partSize: number;

  constructor(options: S3ArchiveTargetOptions) {
    const prefix = options.prefix ?? '';
    if (prefix !== '') checkedArchiveKey(prefix);
    this.bucket = options.bucket;
    this.prefix = prefix;
    this.partSize = Math.max(options.partSize ?? MIN_PART_SIZE, MIN_PART_SIZE);
    this.location = `s3://${options.bucket}${prefix === '' ? '' : `/${prefix}`}`;
    this.client = new S3Client({
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.region === undefined ? {} : { region: options.region }),
      forcePathStyle: options.forcePathStyle ?? false,
    });
  }

  /** The object key of an archive key. */
  objectKey(key: string): string {
    checkedArchiveKey(key);
    return this.prefix === '' ? key : `${this.prefix}/${key}`;
  }

  async put(key: string, body: Readable, contentType: string): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.objectKey(key), Body: body, ContentType: contentType },
      partSize: this.partSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      body.destroy();
      throw e;
    }
  }

  async get(key: string): Promise<Readable | null> {
    try {
      const { Body } = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      if (!(Body instanceof Readable)) throw new Error(`${this.location}: GetObject of ${key} returned no readable stream`);
      return Body;
    } catch (e) {
      if (e instanceof NoSuchKey || (e as { name?: unknown }).name === 'NoSuchKey') return null;
      throw e;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
