// Data windows: one file per window under a key prefix, key order being time order.
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from './failures';
import type { ObjectStore } from '../adapters/objectStore';

/** The newest `count` data files under `prefix`, oldest first; none is a non-retryable failure naming the prefix. */
export async function newestWindows(store: ObjectStore, prefix: string, count: number): Promise<string[]> {
  const keys = (await store.list(prefix)).filter((k) => !k.endsWith('/')).sort();
  if (keys.length === 0)
    throw ApplicationFailure.nonRetryable(`no data files under ${store.uri(prefix)}`, FailureType.validationFailed);
  return keys.slice(-count);
}
