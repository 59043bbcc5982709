// Releases under Temporal Worker Versioning: a new build's workers poll as a new version of the deployment, and
// making it current sends new runs (and the auto-upgrading supervisors) to it while pinned runs finish where they began.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';

/** Which build of a Worker Deployment to make current. */
export interface ReleaseOptions {
  /** The Worker Deployment (the workers' `deployment.name`, CT_DEPLOYMENT_NAME; default `ct`). */
  deploymentName: string;
  /** The build id its workers poll with (`deployment.buildId`, CT_BUILD_ID). */
  buildId: string;
  /** How long to wait for that build's workers to be seen polling (default 60 s). */
  waitMs?: number;
}

/** The build ids of a deployment's versions the server has seen polling; none when the deployment is unknown. */
export async function deploymentBuilds(client: Client, deploymentName: string): Promise<string[]> {
  try {
    const { workerDeploymentInfo } = await client.workflowService.describeWorkerDeployment({
      namespace: client.options.namespace,
      deploymentName,
    });
    return (workerDeploymentInfo?.versionSummaries ?? []).flatMap((v) => v.deploymentVersion?.buildId ?? []);
  } catch (err) {
    if ((err as { code?: number }).code === 5) return []; // NOT_FOUND: no worker of it has polled yet
    throw err;
  }
}

/**
 * Makes `buildId` the current version of the deployment once its workers are polling: new workflows start on it
 * and auto-upgrading ones move to it at their next task; pinned ones (retrainingPipeline) stay on their build.
 * Fails, naming the builds it saw, when that build's workers do not appear within `waitMs`.
 */
export async function makeBuildCurrent(client: Client, opts: ReleaseOptions): Promise<void> {
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  let seen = await deploymentBuilds(client, opts.deploymentName);
  while (!seen.includes(opts.buildId)) {
    if (Date.now() > deadline)
      throw new Error(
        `no worker of build "${opts.buildId}" of deployment "${opts.deploymentName}" is polling (seen: ${seen.join(', ') || 'none'}): start its workers with CT_BUILD_ID=${opts.buildId} first`,
      );
    await sleep(250);
    seen = await deploymentBuilds(client, opts.deploymentName);
  }
  // The server refuses while one of the build's task queues (control or GPU) has not been polled yet: wait for it.
  for (;;) {
    try {
      await client.workflowService.setWorkerDeploymentCurrentVersion({
        namespace: client.options.namespace,
        deploymentName: opts.deploymentName,
        buildId: opts.buildId,
        identity: client.options.identity,
      });
      return;
    } catch (err) {
      const missingQueues = (err as { code?: number }).code === 9 && /missing active task queues/.test(String(err));
      if (!missingQueues || Date.now() > deadline) throw err;
      await sleep(250);
    }
  }
}
