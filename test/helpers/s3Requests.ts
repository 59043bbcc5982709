// A real store on a real S3 client that notes every request it sends (each HTTP attempt: command and key), and
// can end the caller at one request as a crash would: before it is sent, or after S3 has done it but before its answer arrives.
import { ObjectStore, createS3Client } from '../../adapters/objectStore';
import type { AppConfig } from '../../core/appConfig';

export interface SentRequest {
  command: string;
  key: string | undefined;
  /** The HTTP status S3 answered (e.g. 304 to a conditional GET: no body sent); undefined if none came. */
  status?: number;
}

type Match = (request: SentRequest) => boolean;

export interface CountingStore {
  store: ObjectStore;
  /** The requests sent since the store was made or last reset, in order. */
  sent: SentRequest[];
  reset(): void;
  /** The number of sent requests per command, e.g. { ListObjectsV2Command: 2, PutObjectCommand: 1 }. */
  byCommand(): Record<string, number>;
  /** The next request that matches throws, `before` it is sent or `after` S3 has done it. */
  crashOnce(when: 'before' | 'after', match: Match): void;
}

export function countingStore(config: AppConfig, bucket = config.s3.bucket): CountingStore {
  const client = createS3Client(config.s3);
  const sent: SentRequest[] = [];
  const crashes: { when: 'before' | 'after'; match: Match }[] = [];
  const crash = (when: 'before' | 'after', request: SentRequest) => {
    const i = crashes.findIndex((c) => c.when === when && c.match(request));
    if (i < 0) return;
    crashes.splice(i, 1);
    // Not a network error: the SDK would retry that itself, and the crash is meant to end the caller's attempt.
    throw new Error(`injected crash ${when} ${request.command} ${request.key}`);
  };
  // The deserialize step runs once per HTTP attempt (inside the SDK's retry loop).
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request: SentRequest = { command: context.commandName ?? '?', key: (args.input as { Key?: string }).Key };
      crash('before', request);
      sent.push(request);
      const out = await next(args).catch((err: unknown) => {
        request.status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        throw err;
      });
      request.status = (out.response as { statusCode?: number }).statusCode;
      crash('after', request);
      return out;
    },
    { step: 'deserialize', name: 'countRequests' },
  );
  return {
    store: new ObjectStore(client, bucket, config.s3.endpoint),
    sent,
    reset: () => void sent.splice(0),
    byCommand: () => {
      const out: Record<string, number> = {};
      for (const r of sent) out[r.command] = (out[r.command] ?? 0) + 1;
      return out;
    },
    crashOnce: (when, match) => void crashes.push({ when, match }),
  };
}
