// What every activity factory receives, and the per-activity logger carrying workflow/run/activity ids.
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import type { Client } from '@temporalio/client';
import type { AuditLog } from '../adapters/auditLog';
import type { DriftAlertJson, RetrainRequestJson, SupervisorAck } from '../core/supervisorMessages';
import type { ObjectStore } from '../adapters/objectStore';
import type { DatasetCache } from '../adapters/datasetCache';
import type { ActorCheck } from '../core/identity';
import type { IdentityMode } from '../core/appConfig';

/** How the workers establish who acted: self-declared names (dev) or verified OpenID Connect tokens (oidc). */
export interface IdentityService {
  mode: IdentityMode;
  /** Verifies an ID token (oidc); never called in dev mode. */
  verify(token: string): Promise<ActorCheck>;
}

/** What the supervisor activities send: the typed client's reportDrift / requestRetrain, bound to a client. */
export interface SupervisorMessenger {
  reportDrift(alert: DriftAlertJson, options: { taskQueue: string }): Promise<SupervisorAck>;
  requestRetrain(modelId: string, request: RetrainRequestJson, options: { taskQueue: string }): Promise<SupervisorAck>;
}

export interface ActivityDeps {
  store: ObjectStore;
  logger: Logger;
  /** Scratch folder for trainer inputs and outputs; each attempt gets a subfolder. */
  workDir: string;
  /** Folder prepended to PATH for trainer processes (the project venv's bin). */
  pythonBinDir?: string;
  /** Commit of the code that trained a model, recorded on its model card. */
  gitCommit: string;
  /** Used by the training activity to push progress to its workflow (shown in the UI). */
  client?: Client;
  progressSignalSeconds?: number;
  /** Dataset files kept from validation to split preparation on this worker; unset: each stage reads them. */
  datasetCache?: DatasetCache;
  /** The audit log (hash chain in an Object Lock bucket); runs record their decisions there. */
  audit?: AuditLog;
  /** Messages to a model's supervisor (update-with-start), from the client; injected so activities import no client. */
  supervisor?: SupervisorMessenger;
  /** Verifies signed approval tokens; never logged, never in workflow history. */
  approvalSecret?: string;
  /** The Ray cluster of the `ray` training backend (app config `ray`); unset: this worker trains locally only. */
  ray?: { address: string; python: string };
  /** Who acted (unset: dev mode, names as declared). */
  identity?: IdentityService;
  /** Signs notification webhooks (X-CT-Signature); unset: they go unsigned. Never logged. */
  notifySecret?: string;
}

export function activityLogger(base: Logger): Logger {
  const info = Context.current().info;
  return base.child({
    workflowId: info.workflowExecution?.workflowId,
    runId: info.workflowExecution?.runId,
    activity: info.activityType,
    attempt: info.attempt,
  });
}
