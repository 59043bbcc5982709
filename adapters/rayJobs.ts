// Ray's Jobs API (the dashboard's REST API, http://<head>:8265): submit a job, read its status and log, stop it, and
// what the cluster's alive nodes offer. node:http rather than fetch: the dashboard refuses a POST carrying fetch's
// Sec-Fetch-* headers ("method not allowed for browser traffic").
import http from 'node:http';
import WebSocket from 'ws';
import { z } from 'zod';

/** The cluster did not answer (down, wrong address, network): retried. */
export class RayUnreachableError extends Error {
  constructor(address: string, cause: string) {
    super(`Ray cluster at ${address} unreachable: ${cause}`);
    this.name = 'RayUnreachableError';
  }
}

/** The cluster answered no (a bad request, a job it refuses, resources it does not have): not retried. */
export class RayRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RayRejectedError';
  }
}

const TERMINAL = ['STOPPED', 'SUCCEEDED', 'FAILED'] as const;

export const RayJob = z
  .object({
    status: z.enum(['PENDING', 'RUNNING', ...TERMINAL]),
    message: z.string().nullable().optional(),
    driver_exit_code: z.number().int().nullable().optional(),
  })
  .loose();
export type RayJob = z.infer<typeof RayJob>;

const ListedRayJob = RayJob.extend({
  submission_id: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  /** When Ray started and ended the job (epoch ms). */
  start_time: z.number().nullable().optional(),
  end_time: z.number().nullable().optional(),
});

const Nodes = z.object({
  data: z.object({
    result: z.object({
      result: z.array(z.object({ state: z.string(), resources_total: z.record(z.string(), z.number()).optional() })),
    }),
  }),
});

export const isTerminal = (job: RayJob) => (TERMINAL as readonly string[]).includes(job.status);

const REQUEST_TIMEOUT_MS = 10_000;

export class RayJobs {
  constructor(readonly address: string) {}

  /** Submits `entrypoint` (a shell command run by the cluster) as job `submissionId`. */
  async submit(submissionId: string, entrypoint: string, metadata: Record<string, string>): Promise<void> {
    await this.request('POST', '/api/jobs/', { entrypoint, submission_id: submissionId, metadata });
  }

  async status(submissionId: string): Promise<RayJob> {
    return RayJob.parse(await this.request('GET', `/api/jobs/${encodeURIComponent(submissionId)}`));
  }

  /** Every job the cluster knows, with its submission id and metadata. */
  async list(): Promise<z.infer<typeof ListedRayJob>[]> {
    return z.array(ListedRayJob).parse(await this.request('GET', '/api/jobs/'));
  }

  /** The job's whole log so far (its driver's stdout and stderr). */
  async logs(submissionId: string): Promise<string> {
    const body = z
      .object({ logs: z.string() })
      .parse(await this.request('GET', `/api/jobs/${encodeURIComponent(submissionId)}/logs`));
    return body.logs;
  }

  /**
   * Streams the job's log from its start, as it is written (the Jobs API's websocket tail), to `onText` until the
   * job ends or the connection drops: then `onEnd` runs, once.
   */
  tail(submissionId: string, onText: (text: string) => void, onEnd: () => void): { close(): void } {
    const url = new URL(`/api/jobs/${encodeURIComponent(submissionId)}/logs/tail`, this.address);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    // Without per-message compression: offered it, Ray's dashboard (aiohttp) closes the stream at once.
    const ws = new WebSocket(url, { handshakeTimeout: REQUEST_TIMEOUT_MS, perMessageDeflate: false });
    let ended = false;
    const end = () => {
      if (!ended) onEnd();
      ended = true;
    };
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) return;
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(new Uint8Array(data));
      onText(bytes.toString('utf8'));
    });
    ws.on('close', end);
    ws.on('error', end);
    return { close: () => ws.terminate() };
  }

  /** Asks Ray to stop the job (SIGTERM to its driver, SIGKILL seconds later); its workers die with the driver. */
  async stop(submissionId: string): Promise<void> {
    await this.request('POST', `/api/jobs/${encodeURIComponent(submissionId)}/stop`, {});
  }

  /** The resources (CPU, GPU, custom) of each alive node. */
  async aliveNodeResources(): Promise<Record<string, number>[]> {
    const body = Nodes.parse(await this.request('GET', '/api/v0/nodes?limit=1000&detail=true'));
    return body.data.result.result.filter((n) => n.state === 'ALIVE').map((n) => n.resources_total ?? {});
  }

  private request(method: 'GET' | 'POST', route: string, body?: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        new URL(route, this.address),
        { method, headers: { 'content-type': 'application/json' }, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 500 || status === 0)
              return reject(
                new RayUnreachableError(this.address, `${method} ${route}: HTTP ${status} ${text.slice(0, 300)}`),
              );
            if (status !== 200)
              return reject(
                new RayRejectedError(
                  `Ray cluster at ${this.address} refused ${method} ${route}: HTTP ${status} ${text.slice(0, 500)}`,
                ),
              );
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new RayUnreachableError(this.address, `${method} ${route}: not JSON: ${text.slice(0, 200)}`));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS / 1000}s`)));
      req.on('error', (err) =>
        reject(err instanceof RayRejectedError ? err : new RayUnreachableError(this.address, err.message)),
      );
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }
}
