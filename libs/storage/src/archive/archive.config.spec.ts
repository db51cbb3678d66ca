import { BaseConfig, envVariablesOf, validateConfig } from '@hookhub/platform';
import { archiveTargetFromConfig } from './archive.config';
import { DirectoryArchiveTarget } from './directory-archive-target';
import { S3ArchiveTarget } from './s3-archive-target';

/** The archive's variables are storage settings of every app (BaseConfig), read with the one required variable set. */
const config = (raw: Record<string, string>): BaseConfig => validateConfig(BaseConfig, { SECRETS_ENCRYPTION_KEY: 'ab'.repeat(32), ...raw });

function refusal(raw: Record<string, string>): string {
  try {
    config(raw);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

const S3 = { ARCHIVE_TARGET: 's3', ARCHIVE_S3_BUCKET: 'hookhub-archive' };

describe('the archive settings', () => {
  it('declares every variable with one Env decorator', () => {
    expect([...envVariablesOf(BaseConfig).keys()].filter((name) => name.startsWith('ARCHIVE_')).sort()).toEqual([
      'ARCHIVE_DIR',
      'ARCHIVE_S3_BUCKET',
      'ARCHIVE_S3_ENDPOINT',
      'ARCHIVE_S3_FORCE_PATH_STYLE',
      'ARCHIVE_S3_PREFIX',
      'ARCHIVE_S3_REGION',
      'ARCHIVE_TARGET',
    ]);
  });

  it('archives nothing by default, and needs no other variable then', () => {
    expect({ ...config({}) }).toMatchObject({
      ARCHIVE_TARGET: 'none',
      ARCHIVE_DIR: undefined,
      ARCHIVE_S3_BUCKET: undefined,
      ARCHIVE_S3_PREFIX: 'hookhub',
      ARCHIVE_S3_ENDPOINT: undefined,
      ARCHIVE_S3_REGION: undefined,
      ARCHIVE_S3_FORCE_PATH_STYLE: false,
    });
  });

  it("requires the chosen target's variables, naming them", () => {
    expect(refusal({ ARCHIVE_TARGET: 'directory' })).toBe(
      'Invalid configuration:\n  ARCHIVE_DIR is required: an absolute directory path (required when ARCHIVE_TARGET=directory)',
    );
    expect(refusal({ ARCHIVE_TARGET: 's3' })).toBe(
      'Invalid configuration:\n  ARCHIVE_S3_BUCKET is required: an S3 bucket name (required when ARCHIVE_TARGET=s3)',
    );
  });

  it('reads a directory target and a full S3 target', () => {
    expect(config({ ARCHIVE_TARGET: 'directory', ARCHIVE_DIR: '/var/lib/hookhub-archive' })).toMatchObject({
      ARCHIVE_TARGET: 'directory',
      ARCHIVE_DIR: '/var/lib/hookhub-archive',
    });
    expect(
      config({
        ...S3,
        ARCHIVE_S3_PREFIX: 'prod/hookhub',
        ARCHIVE_S3_ENDPOINT: 'http://127.0.0.1:9000',
        ARCHIVE_S3_REGION: 'eu-west-1',
        ARCHIVE_S3_FORCE_PATH_STYLE: 'true',
      }),
    ).toMatchObject({
      ARCHIVE_S3_BUCKET: 'hookhub-archive',
      ARCHIVE_S3_PREFIX: 'prod/hookhub',
      ARCHIVE_S3_ENDPOINT: 'http://127.0.0.1:9000',
      ARCHIVE_S3_REGION: 'eu-west-1',
      ARCHIVE_S3_FORCE_PATH_STYLE: true,
    });
  });

  it.each([
    ['ARCHIVE_TARGET', 'S3', /must be one of none, directory, s3, got "S3"$/],
    ['ARCHIVE_TARGET', 'file', /must be one of none, directory, s3, got "file"$/],
    ['ARCHIVE_DIR', 'archive', /must be an absolute directory path/],
    ['ARCHIVE_DIR', '', /is empty: unset it to use the default/],
    ['ARCHIVE_S3_BUCKET', 'Hookhub_Archive', /must be an S3 bucket name/],
    ['ARCHIVE_S3_BUCKET', 'ab', /must be an S3 bucket name/],
    ['ARCHIVE_S3_PREFIX', '/hookhub', /must be a key prefix/],
    ['ARCHIVE_S3_PREFIX', 'hookhub/', /must be a key prefix/],
    ['ARCHIVE_S3_PREFIX', 'a//b', /must be a key prefix/],
    ['ARCHIVE_S3_PREFIX', 'a/../b', /must be a key prefix/],
    ['ARCHIVE_S3_ENDPOINT', 'minio:9000', /must be an http:\/\/ or https:\/\/ URL/],
    ['ARCHIVE_S3_REGION', 'EU West', /must be a region name/],
    ['ARCHIVE_S3_FORCE_PATH_STYLE', 'maybe', /must be one of true\/false/],
  ])('refuses %s=%j even when another target is chosen', (name, raw, accepts) => {
    const lines = refusal({ [name]: raw }).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^  ${name} `));
    expect(lines[1]).toMatch(accepts);
  });
});

describe('archiveTargetFromConfig', () => {
  // The SDK's notice that its 2027 releases will need Node 22 would print in the test output.
  beforeAll(() => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  });

  it('gives no target for none, a directory target, and an S3 target under its bucket and prefix', async () => {
    expect(archiveTargetFromConfig(config({}))).toBeNull();

    const directory = archiveTargetFromConfig(config({ ARCHIVE_TARGET: 'directory', ARCHIVE_DIR: '/var/lib/hookhub-archive' }));
    expect(directory).toBeInstanceOf(DirectoryArchiveTarget);
    expect(directory?.location).toBe('file:///var/lib/hookhub-archive');

    const s3 = archiveTargetFromConfig(config({ ...S3, ARCHIVE_S3_REGION: 'eu-west-1' }));
    expect(s3).toBeInstanceOf(S3ArchiveTarget);
    expect(s3?.location).toBe('s3://hookhub-archive/hookhub');
    expect((s3 as S3ArchiveTarget).objectKey('2026/11/01/events.ndjson.gz')).toBe('hookhub/2026/11/01/events.ndjson.gz');
    await s3?.close();
  });
});
