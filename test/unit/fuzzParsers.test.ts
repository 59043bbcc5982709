// Hostile input at every boundary parser, generated (fast-check): junk of every type and one-field mutations of a
// valid input. Each parser returns a value that parses again to itself, or an InvalidInputError naming the field.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { z } from 'zod';
import { loadModelConfigFile } from '../../cli/models';
import { AppConfig, ENV_VARS, mergeEnv } from '../../core/appConfig';
import { ModelConfig } from '../../core/modelConfig';
import { InvalidInputError, parseOrThrow } from '../../core/parse';
import { RollbackInput } from '../../core/rollback';
import { RunInput } from '../../core/runInput';
import { ApprovalInput } from '../../core/runStatus';
import {
  DriftAlert,
  DriftCheckInput,
  PauseRequest,
  RetrainRequest,
  RunFinishedNotice,
  ScheduledRetrainInput,
  SupervisorInput,
} from '../../core/supervisorMessages';
import { TrainerEvent, parseTrainerLine } from '../../core/trainerProtocol';
import { projectRoot } from '../../stack/paths';
import { loadAppConfig, readStructuredFile } from '../../workers/config';
import { assertParsesOrNames, fuzzParams, hostileString, junk, mutationOf } from '../helpers/fuzz';

const modelConfigInput = readStructuredFile(path.join(projectRoot, 'models', 'flight-delay.yaml'));

/** The boundaries that parse a structured value with one schema, each with a valid input to mutate. */
const BOUNDARIES: { name: string; schema: z.ZodType; valid: unknown }[] = [
  { name: 'model config', schema: ModelConfig, valid: modelConfigInput },
  {
    name: 'run input',
    schema: RunInput,
    valid: {
      modelId: 'flight-delay',
      dataset: { keys: ['data/jan.parquet', 'data/feb.parquet'] },
      trigger: {
        kind: 'drift',
        requestedBy: 'ct/flight-delay',
        reason: 'drift',
        incident: { id: 'inc-1', supervisor: 'ct/flight-delay', openedAt: '2026-01-01T00:00:00Z', evidence: [{}] },
      },
      modelConfig: modelConfigInput,
    },
  },
  {
    name: 'drift alert',
    schema: DriftAlert,
    valid: {
      alertId: 'a-1',
      modelId: 'flight-delay',
      source: 'monitoring',
      datasetDrift: true,
      driftedShare: 0.4,
      driftedFeatures: ['distance'],
      detectedAt: '2026-01-01T00:00:00Z',
      reportKey: 'drift/flight-delay/reports/1.json',
      window: ['data/jan.parquet'],
      championVersion: 3,
    },
  },
  {
    name: 'retrain request',
    schema: RetrainRequest,
    valid: { requestId: 'r-1', kind: 'manual', requestedBy: 'alice', reason: 'new data', datasetKeys: ['data/a.csv'] },
  },
  { name: 'approval input', schema: ApprovalInput, valid: { by: 'bob', comment: 'looks good', token: 'v2.aa.bb' } },
  { name: 'pause request', schema: PauseRequest, valid: { by: 'ops', reason: 'maintenance', idToken: 'eyJ.eyJ.sig' } },
  {
    name: 'rollback input',
    schema: RollbackInput,
    valid: { modelId: 'flight-delay', toVersion: 2, by: 'carol', reason: 'v3 is worse', override: false },
  },
  {
    name: 'supervisor input',
    schema: SupervisorInput,
    valid: { modelId: 'flight-delay', historyLimit: 500, runCheckSeconds: 60, runPollSeconds: 1 },
  },
  { name: 'run finished notice', schema: RunFinishedNotice, valid: { workflowId: 'retrain/flight-delay/2026-a' } },
  { name: 'drift check input', schema: DriftCheckInput, valid: { modelId: 'flight-delay', windowKeys: ['data/a'] } },
  {
    name: 'scheduled retrain input',
    schema: ScheduledRetrainInput,
    valid: { modelId: 'flight-delay', reason: 'cron' },
  },
];

describe('boundary parsers under generated hostile input', () => {
  for (const { name, schema, valid } of BOUNDARIES) {
    const parse = (v: unknown) => parseOrThrow(schema, v, name);

    it(`${name}: the valid example parses`, () => {
      assert.ok(assertParsesOrNames(parse, valid) !== undefined);
    });

    it(`${name}: junk of any type is refused with field paths, never a crash`, () => {
      fc.assert(
        fc.property(junk(), (v) => {
          assertParsesOrNames(parse, v);
        }),
        fuzzParams(),
      );
    });

    it(`${name}: a valid input with one field mutated is accepted or refused naming that field`, () => {
      fc.assert(
        fc.property(mutationOf(valid), ({ value, path: at, retyped }) => {
          assertParsesOrNames(parse, value, retyped ? at : undefined);
        }),
        fuzzParams(),
      );
    });
  }

  it('model config files: any text is a config or an InvalidInputError naming the file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-fuzz-'));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.json({ maxDepth: 3 })),
        fc.constantFrom('m.yaml', 'm.json'),
        (text, name) => {
          const file = path.join(dir, name);
          writeFileSync(file, text);
          assert.throws(
            () => loadModelConfigFile(file),
            (err: unknown) => err instanceof InvalidInputError && err.message.includes(file),
          );
        },
      ),
      fuzzParams(300),
    );
  });
});

describe('app config under a generated environment', () => {
  const names = Object.keys(ENV_VARS);
  const environment = fc.dictionary(fc.constantFrom(...names), hostileString(), { maxKeys: 8 });
  const emptyDir = mkdtempSync(path.join(os.tmpdir(), 'ct-fuzz-env-'));

  it('any CT_* values load or fail naming the field they set, never a crash', () => {
    fc.assert(
      fc.property(environment, (env) => {
        let config: AppConfig | undefined;
        try {
          config = loadAppConfig({ CT_S3_BUCKET: 'ok-bucket', ...env }, emptyDir);
        } catch (err) {
          assert.ok(err instanceof InvalidInputError, `not an InvalidInputError: ${String(err)}`);
          // Keys come in pairs: a lone access key id is refused at s3.secretAccessKey; any identity.oidc.* field
          // without an issuer is refused at identity.oidc.issuer.
          const fields = [...Object.keys(env).map((k) => ENV_VARS[k]!), 's3.secretAccessKey', 'identity.oidc.issuer'];
          for (const p of err.problems) {
            const at = p.slice(0, p.indexOf(': '));
            assert.ok(
              fields.some((f) => f.startsWith(at) || at.startsWith(f)),
              `"${p}" names a field the environment set`,
            );
          }
          return;
        }
        assert.deepEqual(AppConfig.parse(JSON.parse(JSON.stringify(config))), config);
      }),
      fuzzParams(),
    );
  });

  it('a config file of any shape, merged with any environment, loads or names the field', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), junk(), { maxKeys: 5 }), environment, (file, env) => {
        assertParsesOrNames(
          (v) => parseOrThrow(AppConfig, mergeEnv(v as Record<string, unknown>, env), 'config'),
          file,
        );
      }),
      fuzzParams(),
    );
  });

  it('a config file that is not an object is refused as bad input, naming the file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ct-fuzz-file-'));
    for (const text of ['[1, 2]', '"bucket"', '42', 'null']) {
      writeFileSync(path.join(dir, 'ct.config.json'), text);
      assert.throws(
        () => loadAppConfig({}, dir),
        (err: unknown) =>
          err instanceof InvalidInputError && /ct\.config\.json.*must hold an object/s.test(err.message),
      );
    }
    assert.throws(
      () => loadAppConfig({ CT_CONFIG: 'missing.yaml' }, dir),
      (err: unknown) =>
        err instanceof InvalidInputError && /CT_CONFIG.*missing\.yaml.*does not exist/s.test(err.message),
    );
  });
});

describe('trainer events under generated lines', () => {
  const line = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.json({ maxDepth: 3 }),
    junk().map((v) => JSON.stringify(v) ?? 'undefined'),
    fc
      .record({
        event: fc.constantFrom('started', 'progress', 'checkpoint', 'metrics', 'done', 'preempted', 'error', 'x'),
        step: junk(),
        epoch: junk(),
        path: junk(),
        values: junk(),
        class: junk(),
        message: junk(),
        __proto__: junk(),
      })
      .map((o) => JSON.stringify(o)),
  );

  it('a line is an event that parses again to itself, or null (logged, not fatal); never a crash', () => {
    fc.assert(
      fc.property(line, (text) => {
        const event = parseTrainerLine(text);
        if (event !== null) assert.deepEqual(TrainerEvent.parse(JSON.parse(JSON.stringify(event))), event);
      }),
      fuzzParams(3000),
    );
  });
});
