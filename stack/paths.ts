// Where the installed tools and the local state live (both created by stack/install.sh and `ct dev`).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const toolsDir = path.join(projectRoot, '.ct', 'tools');
/** Local state of `ct dev` and the demo (Temporal SQLite, MinIO data, logs); CT_STATE_DIR moves it. */
export const stateDir = path.resolve(process.env.CT_STATE_DIR ?? path.join(projectRoot, '.ct', 'state'));

export const tools = {
  temporal: path.join(toolsDir, 'venv', 'bin', 'temporal'),
  temporalTestServer: path.join(toolsDir, 'venv', 'bin', 'temporal-test-server'),
  python: path.join(toolsDir, 'venv', 'bin', 'python'),
  minio: path.join(toolsDir, 'minio'),
  hydra: path.join(toolsDir, 'hydra'),
  /** The MLflow tracking server (its own venv: README "Experiment tracking (MLflow)"). */
  mlflow: path.join(toolsDir, 'mlflow', 'bin', 'mlflow'),
};

/** Fails with the fix when a tool is missing, instead of a bare ENOENT from spawn. */
export function requireTool(name: keyof typeof tools): string {
  const p = tools[name];
  if (!existsSync(p))
    throw new Error(`${name} is not installed at ${p}: run \`bash stack/install.sh\` (npm run setup)`);
  return p;
}
