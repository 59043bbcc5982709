// Checkpoints of one run in S3: uploaded with their SHA-256 as object metadata, pruned to the newest K,
// and fetched back only when the bytes still match the recorded digest.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { keys } from '../core/keys';
import { sha256File } from './files';
import type { ObjectStore } from './objectStore';

const SHA_META = 'sha256';

export class CheckpointStore {
  private readonly prefix: string;
  constructor(
    private readonly store: ObjectStore,
    modelId: string,
    runId: string,
  ) {
    this.prefix = keys.checkpoints(modelId, runId);
  }

  /** Stored checkpoint keys, newest (highest step) first: names are zero-padded steps, so they sort. */
  async listNewestFirst(): Promise<string[]> {
    return (await this.store.list(this.prefix))
      .filter((k) => k.endsWith('.pt'))
      .sort()
      .reverse();
  }

  /** Uploads a checkpoint file and returns its key, digest and size; only then may a heartbeat name it. */
  async upload(file: string): Promise<{ key: string; sha256: string; bytes: number }> {
    const key = this.prefix + path.basename(file);
    const [sha256, { size }] = await Promise.all([sha256File(file), stat(file)]);
    await this.store.uploadFile(key, file, { [SHA_META]: sha256 });
    return { key, sha256, bytes: size };
  }

  /** Deletes all but the newest `keep` checkpoints (never `protect`, the one the last heartbeat names). */
  async prune(keep: number, protect: string | null): Promise<string[]> {
    const stale = (await this.listNewestFirst()).slice(keep).filter((k) => k !== protect);
    for (const key of stale) await this.store.deleteAllVersions(key);
    return stale;
  }

  /**
   * Downloads `key` to `file` and checks it against the digest recorded at upload (and the heartbeat's, if given).
   * Returns null when it matches, else why it does not.
   */
  async fetchVerified(key: string, file: string, expectedSha256?: string | null): Promise<string | null> {
    const meta = await this.store.metadata(key);
    if (meta === null) return 'missing from S3';
    const recorded = meta[SHA_META];
    await this.store.downloadFile(key, file);
    const actual = await sha256File(file);
    if (recorded && actual !== recorded) return `sha256 ${actual} does not match the recorded ${recorded}`;
    if (expectedSha256 && actual !== expectedSha256)
      return `sha256 ${actual} does not match the heartbeat's ${expectedSha256}`;
    if (!recorded && !expectedSha256) return 'no recorded sha256 to verify against';
    return null;
  }
}
