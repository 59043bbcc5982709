// A thin, typed wrapper over one S3 bucket: the only place that talks to the S3 API.
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { AppConfig } from '../core/appConfig';

export function createS3Client(s3: AppConfig['s3']): S3Client {
  // The stack is pinned to Node 20 and the lock file to an SDK release that supports it; the SDK's notice about
  // future releases needing Node 22 would only clutter every command's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: s3.forcePathStyle,
    credentials:
      s3.accessKeyId && s3.secretAccessKey
        ? { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
        : undefined,
    // Temporal retries the activity; the SDK itself only smooths over a blip.
    maxAttempts: 2,
  });
}

/** S3 says there is no such object or bucket (GetObject: NoSuchKey; HEAD requests: a bare 404 / NotFound). */
function isNotFound(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound')
  );
}

export class ObjectNotFoundError extends Error {
  override readonly name = 'ObjectNotFoundError';
  constructor(readonly uri: string) {
    super(`no object at ${uri}`);
  }
}

/** The object is no longer the version a read was pinned to (rewritten or grown while being read). */
export class ObjectChangedError extends Error {
  override readonly name = 'ObjectChangedError';
  constructor(
    readonly uri: string,
    readonly etag: string,
  ) {
    super(`${uri} changed while being read (it was at ETag ${etag} when the read began)`);
  }
}

/** Wraps transport failures so the message names the endpoint and the cause, never credentials. */
export class ObjectStoreUnavailableError extends Error {
  override readonly name = 'ObjectStoreUnavailableError';
}

/** A failure of the store itself (a pinned object that changed, the store unreachable), not of what it holds. */
export const isStoreFailure = (err: unknown): boolean =>
  err instanceof ObjectChangedError || err instanceof ObjectStoreUnavailableError;

export class ObjectStore {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    private readonly endpointLabel = 'S3',
  ) {}

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  private async send<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof S3ServiceException) throw err;
      const code = (err as { code?: string }).code ?? (err as Error).name;
      throw new ObjectStoreUnavailableError(
        `object store ${this.endpointLabel} unreachable during ${what}: ${code} ${(err as Error).message}`,
      );
    }
  }

  /** Creates the bucket if missing, with versioning; `objectLock` buckets can hold write-once (retained) objects. */
  async ensureBucket(options: { objectLock?: boolean } = {}): Promise<void> {
    const exists = await this.send('HeadBucket', () =>
      this.client.send(new HeadBucketCommand({ Bucket: this.bucket })),
    ).then(
      () => true,
      (err: unknown) => {
        if (isNotFound(err)) return false;
        throw err;
      },
    );
    if (!exists) {
      await this.send('CreateBucket', () =>
        this.client.send(
          new CreateBucketCommand({ Bucket: this.bucket, ObjectLockEnabledForBucket: options.objectLock || undefined }),
        ),
      ).catch((err: unknown) => {
        if (
          err instanceof S3ServiceException &&
          (err.name === 'BucketAlreadyOwnedByYou' || err.name === 'BucketAlreadyExists')
        )
          return;
        throw err;
      });
    }
    // Versioning keeps every overwritten registry/audit object recoverable.
    await this.send('PutBucketVersioning', () =>
      this.client.send(
        new PutBucketVersioningCommand({ Bucket: this.bucket, VersioningConfiguration: { Status: 'Enabled' } }),
      ),
    );
  }

  async getBytes(key: string): Promise<Uint8Array> {
    return (await this.getBytesWithEtag(key)).bytes;
  }

  /** An object's bytes and its ETag (which changes whenever its content does). */
  async getBytesWithEtag(key: string): Promise<{ bytes: Uint8Array; etag: string }> {
    return (await this.getBytesUnlessEtag(key, undefined))!;
  }

  /** An object's bytes and ETag, or null while it still has `etag`: S3 answers 304 Not Modified, with no body. */
  async getBytesUnlessEtag(key: string, etag: string | undefined): Promise<{ bytes: Uint8Array; etag: string } | null> {
    try {
      const res = await this.send(`GetObject ${key}`, () =>
        this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, IfNoneMatch: etag })),
      );
      return { bytes: await res.Body!.transformToByteArray(), etag: res.ETag! };
    } catch (err) {
      if (etag && err instanceof S3ServiceException && err.$metadata.httpStatusCode === 304) return null;
      if (isNotFound(err)) throw new ObjectNotFoundError(this.uri(key));
      throw err;
    }
  }

  /** An object's size and ETag (the version a pinned read asks for), without its body. */
  async head(key: string): Promise<{ size: number; etag: string }> {
    try {
      const res = await this.send(`HeadObject ${key}`, () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
      );
      return { size: res.ContentLength ?? 0, etag: res.ETag! };
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(this.uri(key));
      throw err;
    }
  }

  /**
   * Bytes [start, end) of the object as it was at `etag`: a ranged GET with If-Match, so a file replaced or
   * grown since it was planned fails with ObjectChangedError instead of mixing two versions.
   */
  async getRange(key: string, start: number, end: number, etag: string): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    const res = await this.pinned(key, etag, `bytes=${start}-${end - 1}`);
    return await res.Body!.transformToByteArray();
  }

  /** The object's body as a stream, pinned to `etag` like getRange. */
  async getStream(key: string, etag: string): Promise<Readable> {
    const res = await this.pinned(key, etag);
    return res.Body as Readable;
  }

  private async pinned(key: string, etag: string, range?: string) {
    try {
      return await this.send(`GetObject ${key}`, () =>
        this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: etag, ...(range ? { Range: range } : {}) }),
        ),
      );
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(this.uri(key));
      if (
        err instanceof S3ServiceException &&
        (err.$metadata.httpStatusCode === 412 || err.name === 'PreconditionFailed')
      )
        throw new ObjectChangedError(this.uri(key), etag);
      throw err;
    }
  }

  async getJson(key: string): Promise<unknown> {
    return JSON.parse(Buffer.from(await this.getBytes(key)).toString('utf8')) as unknown;
  }

  async getJsonIfExists(key: string): Promise<unknown> {
    try {
      return await this.getJson(key);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return undefined;
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.send(`HeadObject ${key}`, () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
      );
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async put(
    key: string,
    body: Uint8Array | string,
    contentType = 'application/octet-stream',
    metadata?: Record<string, string>,
  ): Promise<void> {
    await this.send(`PutObject ${key}`, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          Metadata: metadata,
        }),
      ),
    );
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.put(key, JSON.stringify(value, null, 2), 'application/json');
  }

  /**
   * Writes only if no object exists at `key`; returns false when another writer got there first.
   * With `retainUntil`, the object is locked (Object Lock) against deletion and overwrite until then.
   */
  async putIfAbsent(
    key: string,
    body: string,
    contentType = 'application/json',
    retainUntil?: { date: Date; mode: 'GOVERNANCE' | 'COMPLIANCE' },
  ): Promise<boolean> {
    try {
      await this.send(`PutObject ${key}`, () =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            IfNoneMatch: '*',
            ...(retainUntil ? { ObjectLockMode: retainUntil.mode, ObjectLockRetainUntilDate: retainUntil.date } : {}),
          }),
        ),
      );
      return true;
    } catch (err) {
      if (
        err instanceof S3ServiceException &&
        (err.$metadata.httpStatusCode === 412 || err.name === 'PreconditionFailed')
      )
        return false;
      throw err;
    }
  }

  /** An object's JSON with its ETag (for a later conditional write), or null when there is none. */
  async getJsonWithEtag(key: string): Promise<{ value: unknown; etag: string } | null> {
    try {
      const res = await this.send(`GetObject ${key}`, () =>
        this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })),
      );
      return { value: JSON.parse(await res.Body!.transformToString('utf8')) as unknown, etag: res.ETag! };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /**
   * Compare-and-swap: writes only if the object is still at `etag` (or still absent when `etag` is null).
   * Returns false when another writer changed it first.
   */
  async putJsonIfUnchanged(key: string, value: unknown, etag: string | null): Promise<boolean> {
    try {
      await this.send(`PutObject ${key}`, () =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: JSON.stringify(value, null, 2),
            ContentType: 'application/json',
            ...(etag ? { IfMatch: etag } : { IfNoneMatch: '*' }),
          }),
        ),
      );
      return true;
    } catch (err) {
      if (
        err instanceof S3ServiceException &&
        (err.$metadata.httpStatusCode === 412 ||
          err.$metadata.httpStatusCode === 409 ||
          err.name === 'PreconditionFailed')
      )
        return false;
      throw err;
    }
  }

  /** The keys under `prefix` in key order; with `startAfter`, only those after it (one request per 1,000 keys). */
  async list(prefix: string, options: { startAfter?: string } = {}): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const res = await this.send(`ListObjectsV2 ${prefix}`, () =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ContinuationToken: token,
            StartAfter: token ? undefined : options.startAfter,
          }),
        ),
      );
      for (const o of res.Contents ?? []) if (o.Key) out.push(o.Key);
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** The first key under `prefix` in key order, or null when there is none: one request, however many keys. */
  async firstKey(prefix: string): Promise<string | null> {
    const res = await this.send(`ListObjectsV2 ${prefix}`, () =>
      this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, MaxKeys: 1 })),
    );
    return res.Contents?.[0]?.Key ?? null;
  }

  /**
   * Streams a local file up in 16 MiB parts, 4 at a time: memory stays bounded (64 MiB) whatever the size, and
   * files past the 5 GiB single-PUT limit work. (On loopback a single PUT of a buffered file is faster: bench/.)
   */
  async uploadFile(key: string, file: string, metadata?: Record<string, string>): Promise<void> {
    await this.send(`Upload ${key}`, () =>
      new Upload({
        client: this.client,
        params: {
          Bucket: this.bucket,
          Key: key,
          Body: createReadStream(file, { highWaterMark: 1024 * 1024 }),
          Metadata: metadata,
        },
        queueSize: 4,
        partSize: 16 * 1024 * 1024,
      }).done(),
    );
  }

  /** User metadata of an object (x-amz-meta-*), or null if there is no object. */
  async metadata(key: string): Promise<Record<string, string> | null> {
    try {
      const res = await this.send(`HeadObject ${key}`, () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
      );
      return res.Metadata ?? {};
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Deletes `key` (in a versioned bucket its earlier versions stay, behind a delete marker). */
  async delete(key: string): Promise<void> {
    await this.send(`DeleteObject ${key}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
    );
  }

  /** Deletes every version of `key`: in a versioned bucket a plain delete would keep the bytes. */
  async deleteAllVersions(key: string): Promise<void> {
    const res = await this.send(`ListObjectVersions ${key}`, () =>
      this.client.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: key })),
    );
    const versions = [...(res.Versions ?? []), ...(res.DeleteMarkers ?? [])].filter((v) => v.Key === key);
    for (const v of versions) {
      await this.send(`DeleteObject ${key}`, () =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: v.VersionId })),
      );
    }
  }

  async downloadFile(key: string, file: string): Promise<void> {
    try {
      const res = await this.send(`GetObject ${key}`, () =>
        this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })),
      );
      await pipeline(res.Body as Readable, createWriteStream(file));
    } catch (err) {
      if (isNotFound(err)) throw new ObjectNotFoundError(this.uri(key));
      throw err;
    }
  }
}
