// A counting HTTP proxy in front of MinIO, for benchmarks whose S3 clients live in other processes (worker
// processes): they get the proxy as their S3 endpoint, and every request they send is noted with its time, method
// and area (the key's first segment). test/helpers/s3Requests.ts counts in-process clients; this counts any client.
// Requests are forwarded byte for byte with their Host header, so SigV4 signatures still verify at MinIO.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  /** When the request arrived, ms since the epoch. */
  at: number;
  /** GET, PUT, HEAD, DELETE, POST, or LIST (a GET of a bucket listing). */
  op: string;
  /** The key's first segment (runs, registry, drift, datasets, notifications), or `audit` for the audit bucket. */
  area: string;
}

export interface CountingProxy {
  /** The endpoint to give the S3 clients instead of the target's. */
  url: string;
  requests: ProxiedRequest[];
  /** Requests that arrived in [from, to). */
  between(from: number, to: number): ProxiedRequest[];
  close(): Promise<void>;
}

/** The op and area of a path-style S3 request (`/<bucket>/<key>?<query>`). */
export function classifyRequest(method: string, url: string): Omit<ProxiedRequest, 'at'> {
  const { pathname, searchParams } = new URL(url, 'http://proxy');
  const [bucket = '', first = ''] = pathname.slice(1).split('/');
  const listing = method === 'GET' && (searchParams.has('list-type') || pathname.split('/').length <= 2);
  return {
    op: listing ? 'LIST' : method,
    area: bucket.endsWith('-audit') ? 'audit' : decodeURIComponent(first) || '(bucket)',
  };
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const requests: ProxiedRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ at: Date.now(), ...classifyRequest(req.method ?? 'GET', req.url ?? '/') });
    // Expect: 100-continue is answered by this server already; it is not a signed header.
    const headers = { ...req.headers };
    delete headers.expect;
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    // A failed forward is a 502 to the client, whose S3 SDK retries it like any server error.
    forwarded.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${err.message}`);
    });
    req.pipe(forwarded);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    between: (from, to) => requests.filter((r) => r.at >= from && r.at < to),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
