// The remote codec protocol of the Temporal Web UI and CLI (`ct codec-server`): POST /encode and POST /decode carry
// `{ "payloads": [ { "metadata": { "<key>": "<base64>" }, "data": "<base64>" } ] }` and answer the same shape.
import { z } from 'zod';

const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');

export const CodecPayload = z
  .object({
    metadata: z.record(z.string(), Base64).default({}).describe('metadata values, base64'),
    data: Base64.optional().describe('payload bytes, base64'),
  })
  .describe('a temporal.api.common.v1.Payload in its proto3 JSON form');
export type CodecPayload = z.infer<typeof CodecPayload>;

export const CodecPayloads = z
  .object({ payloads: z.array(CodecPayload).describe('payloads to encode or decode, in order') })
  .describe('request and reply body of POST /encode and POST /decode');
export type CodecPayloads = z.infer<typeof CodecPayloads>;

/** The two operations of the protocol, by path. */
export const CODEC_PATHS = { '/encode': 'encode', '/decode': 'decode' } as const;
