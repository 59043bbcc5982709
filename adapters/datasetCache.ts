// Dataset files a worker keeps in memory from validateDataset to prepareSplits, so that a run whose two stages land
// on the same worker reads its data from S3 once. Bounded by bytes (a file larger than the whole cache is not
// kept) and by time; prepare takes the copy out, and reads the object again if its ETag changed meanwhile. A run
// whose prepare lands on another worker (or comes after a restart) finds nothing kept and reads the data: the
// cache only ever saves a read.
import { LRUCache } from 'lru-cache';
import type { ObjectStore } from './objectStore';

interface Kept {
  etag: string;
  bytes: Uint8Array;
}

/** Long enough for prepare to follow validate, even after a retry; short enough not to hold data of idle runs. */
const KEEP_MS = 10 * 60_000;

export class DatasetCache {
  private readonly kept: LRUCache<string, Kept>;

  constructor(maxBytes: number) {
    this.kept = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: (k) => Math.max(1, k.bytes.byteLength),
      ttl: KEEP_MS,
    });
  }

  /** Reads `key` and keeps its bytes for {@link take}. */
  async readAndKeep(store: ObjectStore, key: string): Promise<Uint8Array> {
    const { bytes, etag } = await store.getBytesWithEtag(key);
    this.kept.set(store.uri(key), { bytes, etag });
    return bytes;
  }

  /** The bytes of `key`: the kept copy while the object still has its ETag (one request, no body), else read. */
  async take(store: ObjectStore, key: string): Promise<Uint8Array> {
    const uri = store.uri(key);
    const kept = this.kept.get(uri);
    this.kept.delete(uri);
    if (!kept) return store.getBytes(key);
    return (await store.getBytesUnlessEtag(key, kept.etag))?.bytes ?? kept.bytes;
  }
}
