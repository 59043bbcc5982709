// The Temporal Web UI as a person uses it, in a real Chromium: find a model's runs by CtModel, open one, and read
// its stage, summary, details, activity summaries and current details (training progress, the gate verdict, the
// approval wait) while it runs, all decrypted through the codec server, while the stored history holds only
// ciphertext. Screenshots go to test/artifacts/web-ui/.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { decideRun, runStatus, startRetraining } from '../../client';
import type { RunStatus } from '../../core/runStatus';
import { artifactDir, launchChromium } from '../helpers/browser';
import { testModelConfig } from '../helpers/flights';
import { flightsTenant, startTestStack, type TestStack } from '../helpers/stack';
import { until } from '../helpers/until';

describe('the Temporal Web UI (Chromium)', () => {
  let stack: TestStack;
  let tenant: Awaited<ReturnType<typeof flightsTenant>>;
  let browser: Browser;
  let page: Page;
  const shots = artifactDir('web-ui');

  before(async () => {
    stack = await startTestStack({ ui: true });
    tenant = await flightsTenant(stack);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows a run by CtModel with its stage, summaries, training progress, gate verdict and approval wait', async () => {
    const ui = stack.temporal.uiUrl!;
    const ns = stack.temporal.namespace;
    const config = testModelConfig({
      // Slow steps (34 steps ≈ 34 s), so training is still going on when the page is read: at 400 ms a step, a
      // page load under CI load outlasted the remaining ~12 s of training and found the run evaluating.
      command: ['env', 'CT_TRAINER_STEP_DELAY_MS=1000', 'python3', 'trainers/flight_delay/train.py'],
    });
    const handle = await startRetraining(
      stack.client,
      {
        modelId: 'flight-delay',
        dataset: { keys: ['data/jan.parquet'] },
        trigger: { kind: 'manual', requestedBy: 'alice', reason: 'web ui test' },
        modelConfig: {
          ...config,
          approval: {
            ...config.approval,
            mode: 'manual',
            roles: { 'ml-lead': ['bob'] },
            approverRoles: ['ml-lead'],
            reminderAfter: '1h',
          },
        },
      },
      { taskQueue: tenant.config.taskQueue },
    );
    const { runId } = await handle.describe();
    const status = (): Promise<RunStatus> => runStatus(stack.client, handle.workflowId);
    const runPage = `${ui}/namespaces/${ns}/workflows/${encodeURIComponent(handle.workflowId)}/${runId}`;
    /** The run page's User Metadata tab, freshly loaded: the summary, the details and the current details, each
     * rendered from markdown in a sandboxed frame of its own. */
    const metadata = async (): Promise<string> => {
      await page.goto(runPage);
      await page.getByRole('tab', { name: 'User Metadata' }).click();
      await page.getByText('Current Details').waitFor();
      return until('the current details', async () => {
        const texts = await Promise.all(page.frames().map((f) => f.innerText('body').catch(() => '')));
        const all = texts.join('\n');
        return all.includes(`${config.modelId} — stage`) && all;
      });
    };

    // 1. The workflow list, filtered by the model's search attribute.
    // The list does not refresh itself: under CI load the run may reach visibility after the first load, so reload.
    const listUrl = `${ui}/namespaces/${ns}/workflows?query=${encodeURIComponent('CtModel="flight-delay"')}`;
    await until(
      'the run in the list',
      async () => {
        await page.goto(listUrl);
        const shown = page.getByText(handle.workflowId).first();
        return shown.waitFor({ timeout: 10_000 }).then(
          () => true,
          () => false,
        );
      },
      120_000,
    );
    await page.screenshot({ path: path.join(shots, '1-list-by-ctmodel.png'), fullPage: true });
    const list = await page.innerText('main');
    assert.match(list, /CtModel = "flight-delay"/);
    assert.match(list, /retrainingPipeline/);

    // 2. While training: the stage and the progress in the current details, the summary and details.
    await until(
      'training past step 3',
      async () => {
        const s = await status();
        return s.stage === 'train' && (s.training?.step ?? 0) >= 3;
      },
      120_000,
    );
    const training = await metadata();
    await page.screenshot({ path: path.join(shots, '2-training.png'), fullPage: true });
    assert.match(training, /retrain flight-delay on data\/jan\.parquet \(manual by alice\)/, 'the summary');
    assert.match(training, /manual trigger by alice: web ui test/, 'the details');
    assert.match(training, /ct status retrain\/flight-delay\//, 'the details name the command that inspects the run');
    assert.match(training, /flight-delay — stage train \(running\)/, 'the stage in the current details');
    // The UI's markdown renderer turns 25/34 into 25⁄34 (a fraction slash).
    assert.match(training, /training: step \d+[/⁄]\d+ · epoch \d+ · loss [\d.]+ · \d+ samples\/s · attempt 1 on cpu/);

    // 3. Waiting for approval: the gate verdict, who may approve and when the reminder fires.
    await until('the approval stage', async () => (await status()).stage === 'approval', 300_000);
    const waiting = await metadata();
    await page.screenshot({ path: path.join(shots, '3-waiting-for-approval.png'), fullPage: true });
    assert.match(waiting, /stage approval \(running\)/);
    assert.match(waiting, /gate: passed — /);
    assert.match(waiting, /waiting for approval by bob \(0\/1\) · next: reminder at \d{4}-\d\d-\d\dT/);
    assert.match(waiting, /registered v1/);

    // 4. The timeline: each activity with its summary, and the stage as a search attribute.
    await page.getByRole('tab', { name: 'Timeline' }).click();
    await page.getByText('validateDataset • validate 1 file(s) against the flight-delay schema').waitFor();
    await page.screenshot({ path: path.join(shots, '4-timeline.png'), fullPage: true });
    const timeline = await page.innerText('main');
    // (Settling the configuration is a local activity: a marker, without a summary of its own.)
    for (const summary of [
      'prepareSplits • time-aware train/validation/holdout split',
      'trainModel • train on',
      'evaluateModels • score',
      'registerChallenger • register flight-delay as challenger',
    ])
      assert.ok(timeline.includes(summary), `timeline shows "${summary}"`);
    await page.getByRole('tab', { name: 'Search Attributes' }).click();
    await page.getByText('"CtStage": "approval"').waitFor();

    // 5. Approved: the run ends promoted, and the page says so.
    await decideRun(stack.client, handle.workflowId, 'approved', 'bob', 'looks good');
    assert.equal((await handle.result()).outcome, 'promoted');
    const done = await metadata();
    await page.screenshot({ path: path.join(shots, '5-promoted.png'), fullPage: true });
    assert.match(done, /stage done \(promoted\)/);
    assert.match(done, /decision: approved by bob/);
    assert.match(done, /registered v1 \(champion\)/);

    // 6. Encrypted at rest, readable in the UI: the page shows the decrypted input (through the codec server)…
    await page.goto(runPage);
    await page.getByText('data/jan.parquet').first().waitFor();
    await page.screenshot({ path: path.join(shots, '6-decrypted-input.png'), fullPage: true });
    assert.match(await page.innerText('main'), /"modelId": "flight-delay"[\s\S]*data\/jan\.parquet/);
    // …while the history as the server holds it (a client without the codec) has only ciphertext.
    const raw = new Client({ connection: stack.client.connection, namespace: ns });
    const history = await raw.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    const started = history.events![0]!;
    const encoding = (p?: { metadata?: Record<string, Uint8Array> | null } | null) =>
      Buffer.from(p?.metadata?.encoding ?? []).toString();
    assert.equal(encoding(started.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]), 'binary/encrypted');
    assert.equal(encoding(started.userMetadata?.summary), 'binary/encrypted', 'the summary is encrypted too');
    const json = historyToJSON(history);
    const payloadTexts = [...json.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)].map((m) =>
      Buffer.from(m[1]!, 'base64').toString('latin1'),
    );
    assert.ok(payloadTexts.length > 10, `found ${payloadTexts.length} payloads`);
    for (const text of [json, ...payloadTexts]) {
      assert.ok(!text.includes('jan.parquet'), 'no dataset key in the stored history');
      assert.ok(!/\b(alice|bob|looks good)\b/.test(text), 'no person or comment in the stored history');
    }
  });
});
