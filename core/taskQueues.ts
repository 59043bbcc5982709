// Training runs on its own task queue so only GPU workers pick it up. Its name is derived from the control
// queue (ct → ct-gpu), so one setting moves both and a workflow always knows where its training goes.
export function gpuTaskQueueOf(controlTaskQueue: string): string {
  return `${controlTaskQueue}-gpu`;
}
