// The failure converter of every client, worker and workflow bundle: a failure's message and stack trace travel as
// an encoded payload (so the payload codec encrypts them; they can name datasets), not as plaintext history fields.
import { DefaultFailureConverter } from '@temporalio/common';

/** Loaded by name (`failureConverter`) from DataConverter.failureConverterPath, in workers and in the workflow bundle. */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
