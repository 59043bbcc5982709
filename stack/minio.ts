// MinIO (built from source by stack/install.sh) as the local S3 server: a data folder, credentials, a port.
import { requireTool } from './paths';
import { freePort, type ManagedProcess, startOnFreePorts, startProcess, waitUntilReady } from './processes';

export interface MinioServer {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  process: ManagedProcess;
}

export async function startMinio(opts: {
  dataDir: string;
  port?: number;
  accessKeyId?: string;
  secretAccessKey?: string;
}): Promise<MinioServer> {
  return opts.port === undefined ? startOnFreePorts(() => startMinioOnce(opts)) : startMinioOnce(opts);
}

async function startMinioOnce(opts: {
  dataDir: string;
  port?: number;
  accessKeyId?: string;
  secretAccessKey?: string;
}): Promise<MinioServer> {
  const port = opts.port ?? (await freePort());
  const consolePort = await freePort();
  const accessKeyId = opts.accessKeyId ?? 'ct-local';
  const secretAccessKey = opts.secretAccessKey ?? 'ct-local-secret';
  const proc = startProcess(
    'minio',
    requireTool('minio'),
    [
      'server',
      opts.dataDir,
      '--address',
      `127.0.0.1:${port}`,
      '--console-address',
      `127.0.0.1:${consolePort}`,
      '--quiet',
    ],
    opts.dataDir + '.logs',
    { MINIO_ROOT_USER: accessKeyId, MINIO_ROOT_PASSWORD: secretAccessKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilReady(proc, async () => (await fetch(`${endpoint}/minio/health/ready`)).ok, 60_000);
  return { endpoint, accessKeyId, secretAccessKey, process: proc };
}

/** An outage: kills `minio` (-9); the function returned starts it again on the same port, data and credentials. */
export async function killMinio(minio: MinioServer, dataDir: string): Promise<() => Promise<MinioServer>> {
  const { child } = minio.process;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  const { endpoint, accessKeyId, secretAccessKey } = minio;
  return () => startMinio({ dataDir, port: Number(new URL(endpoint).port), accessKeyId, secretAccessKey });
}

/** The S3 settings (AppConfig's `s3`) that reach `minio`'s bucket `bucket`. */
export function minioS3(minio: MinioServer, bucket: string) {
  return {
    endpoint: minio.endpoint,
    bucket,
    accessKeyId: minio.accessKeyId,
    secretAccessKey: minio.secretAccessKey,
    forcePathStyle: true,
  };
}
