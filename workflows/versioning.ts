// How each workflow moves between builds under Temporal Worker Versioning (README, "Releases"). The SDK refuses a
// versioning behaviour from an unversioned worker (whose version has a build id but no deployment name), so it is
// declared only when this task runs on a versioned one.
import type { VersioningBehavior } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';

export const onVersionedWorkers = (versioningBehavior: VersioningBehavior) => () =>
  workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior } : {};
