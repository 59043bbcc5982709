// A real Chromium (Debian's package, installed by stack/install.sh) driven by playwright-core: no browser download.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { projectRoot } from '../../stack/paths';

const CHROMIUM = process.env.CT_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: run bash stack/install.sh (or set CT_CHROMIUM to a Chromium binary)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    // This machine's network is closed: without these flags Chromium keeps dialling Google's services.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The folder a test's screenshots go to: test/artifacts/<name> (or $CT_TEST_ARTIFACTS/<name>), kept after the run. */
export function artifactDir(name: string): string {
  const dir = path.join(process.env.CT_TEST_ARTIFACTS ?? path.join(projectRoot, 'test', 'artifacts'), name);
  mkdirSync(dir, { recursive: true });
  return dir;
}
