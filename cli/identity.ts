// Who a `ct` command acts for: in dev mode the name given with --as; in oidc mode the person signed in with
// `ct login` (their cached ID token travels with the command and the workers verify it).
import { decodeJwt } from 'jose';
import { cachedLogin, forgetLogin, saveLogin, signInWithBrowser } from '../adapters/oidcLogin';
import { OidcVerifier } from '../adapters/oidcVerifier';
import { type AppConfig, identityMode } from '../core/appConfig';
import { cliConfig } from './localStack';
import { UsageError } from './usage';

export interface Acting {
  by: string;
  idToken?: string;
}

function oidcOf(config: AppConfig) {
  const oidc = config.identity.oidc;
  if (!oidc) throw new UsageError('identity: set identity.oidc.issuer (CT_OIDC_ISSUER) to sign in');
  return oidc;
}

/** The person this command acts for; `as` is the --as flag (required in dev mode, checked in oidc mode). */
export function acting(as: string | undefined, config = cliConfig().config): Acting {
  if (identityMode(config) === 'dev') {
    if (!as) throw new UsageError('--as <name> is required (who acts)');
    return { by: as };
  }
  const { issuer, clientId } = oidcOf(config);
  const login = cachedLogin(issuer, clientId);
  if (!login) throw new UsageError(`not signed in to ${issuer} (or the sign-in expired): run ct login`);
  if (as && as !== login.subject)
    throw new UsageError(`--as ${as}, but you are signed in as ${login.subject}: identities are verified here`);
  return { by: login.subject, idToken: login.idToken };
}

/** `ct login`: the browser sign-in (the URL printed), the ID token verified, then cached for later commands. */
export async function loginCommand(print: (line: string) => void): Promise<number> {
  const { config } = cliConfig();
  const oidc = oidcOf(config);
  const tokens = await signInWithBrowser({
    issuer: oidc.issuer,
    clientId: oidc.clientId,
    scopes: oidc.scopes,
    onUrl: (url) => print(`Open this URL in a browser to sign in:\n  ${url}`),
  });
  const check = await new OidcVerifier(oidc).verify(tokens.idToken);
  if (!check.ok) throw new Error(`the provider's ID token does not verify: ${check.reason}`);
  const expiresAt = new Date(Number(decodeJwt(tokens.idToken).exp) * 1000).toISOString();
  saveLogin({ issuer: oidc.issuer, clientId: oidc.clientId, ...tokens, expiresAt, subject: check.actor.subject });
  const groups = check.actor.groups.length ? check.actor.groups.join(', ') : 'none';
  print(`signed in as ${check.actor.subject} (groups: ${groups}) at ${oidc.issuer}, until ${expiresAt}`);
  return 0;
}

export function logoutCommand(print: (line: string) => void): number {
  const { issuer, clientId } = oidcOf(cliConfig().config);
  print(forgetLogin(issuer, clientId) ? `signed out of ${issuer}` : `not signed in to ${issuer}`);
  return 0;
}

export function whoamiCommand(print: (line: string) => void): number {
  const { config } = cliConfig();
  if (identityMode(config) === 'dev') {
    print('identity mode dev: names are declared with --as and recorded as unverified');
    return 0;
  }
  const { issuer, clientId } = oidcOf(config);
  const login = cachedLogin(issuer, clientId);
  print(login ? `${login.subject} at ${issuer}, until ${login.expiresAt}` : `not signed in to ${issuer}`);
  return login ? 0 : 1;
}
