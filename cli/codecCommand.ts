// `ct codec-server` and the codec server `ct dev` runs: this configuration's keys, the Web UI's origin, the dev
// authenticator (loopback callers, the UI's Origin) or, where identities are verified, an OIDC bearer token.
import type { Logger } from 'pino';
import type { AppConfig } from '../core/appConfig';
import { AesGcmPayloadCodec } from '../adapters/payloadCodec';
import { codecKeysOf } from '../workers/dataConverter';
import { createLogger } from '../workers/logging';
import { bearerAuthenticator, devAuthenticator, startCodecServer } from './codecServer';
import { identityMode } from '../core/appConfig';
import { OidcVerifier } from '../adapters/oidcVerifier';
import { cliConfig, localUiUrl } from './localStack';
import { UsageError } from './usage';

export interface CodecServerFlags {
  host?: string;
  port?: string;
  uiOrigin?: string;
}

/** The codec server of `config` (codec.server, codec.uiOrigin), flags on top. */
export async function startConfiguredCodecServer(config: AppConfig, logger: Logger, flags: CodecServerFlags = {}) {
  const keys = codecKeysOf(config);
  if (!keys) throw new UsageError('codec-server: codec.mode is none (CT_CODEC_MODE): there is no key to decode with');
  const port = flags.port === undefined ? config.codec.server.port : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a port number (0-65535), not "${flags.port}"`);
  const uiOrigin = (flags.uiOrigin ?? config.codec.uiOrigin ?? localUiUrl()).replace(/\/+$/, '');
  const codec = new AesGcmPayloadCodec(keys);
  const oidcVerifier = config.identity.oidc ? new OidcVerifier(config.identity.oidc) : undefined;
  return {
    uiOrigin,
    keyId: codec.encryptingKeyId,
    ...(await startCodecServer({
      codec,
      uiOrigin,
      // Verified identities: a caller proves who they are; the local stack: callers on this machine only.
      authenticate:
        identityMode(config) === 'oidc'
          ? bearerAuthenticator(uiOrigin, (t) => oidcVerifier!.verify(t))
          : devAuthenticator(uiOrigin),
      logger,
      host: flags.host ?? config.codec.server.host,
      port,
    })),
  };
}

/** `ct codec-server`: serves until SIGINT/SIGTERM. */
export async function codecServerCommand(flags: CodecServerFlags, print: (s: string) => void): Promise<number> {
  const { config } = cliConfig();
  const server = await startConfiguredCodecServer(config, createLogger(config.logLevel), flags);
  print(`codec server: ${server.url} (POST /encode, POST /decode) for the Web UI at ${server.uiOrigin}`);
  print(`  temporal server start-dev --ui-codec-endpoint ${server.url}, or the UI's "Codec Server" setting`);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  await server.close();
  return 0;
}
