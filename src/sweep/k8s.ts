/**
 * The sweep as a Kubernetes Indexed Job (`DIR/sweep-job.yaml`): one
 * completion per cell, each pod running `wasmtail sweep --out DIR` with the
 * cell index the Job controller puts in JOB_COMPLETION_INDEX (which
 * `sweep` reads when --cell is not given). The sweep folder is a mounted
 * PersistentVolumeClaim that every pod shares; `backoffLimitPerIndex`
 * retries a failed cell on its own, and a retried pod resumes the cell's
 * checkpoint. Written as text (YAML is a superset of this JSON-like layout)
 * so no YAML library is needed.
 */
import { basename, posix } from 'node:path';
import type { SweepFile } from './grid.js';

export interface K8sOptions {
  /** Container image with wasmtail installed (its `wasmtail` on PATH). */
  image: string;
  /** PersistentVolumeClaim that holds the sweep folder. */
  pvc: string;
  /** Where the claim is mounted in the pods. */
  mountPath: string;
  parallelism: number;
  backoffLimitPerIndex: number;
  cpus: number;
  /** Extra sweep arguments for every pod. */
  runArgs: string[];
}

/** A Job name: lower-case letters, digits and '-', at most 63 characters, starting with a letter. */
function jobName(sweepDir: string): string {
  const slug = basename(sweepDir)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `wasmtail-sweep-${slug || 'run'}`.slice(0, 63).replace(/-+$/, '');
}

/** The folder inside the pods: the sweep folder's name under the mount. */
export function podSweepDir(sweepDir: string, mountPath: string): string {
  return posix.join(mountPath, basename(sweepDir));
}

export function k8sManifest(sweepDir: string, sweep: SweepFile, opts: K8sOptions): string {
  const q = (s: string) => JSON.stringify(s);
  const command = ['wasmtail', 'sweep', '--out', podSweepDir(sweepDir, opts.mountPath), '--threads', String(opts.cpus), ...opts.runArgs];
  return [
    `# wasmtail sweep: ${sweep.cells.length} cells as an Indexed Job. The claim ${opts.pvc} must hold the sweep folder`,
    `# (copy ${basename(sweepDir)}/ with its sweep.json to the volume). Submit: kubectl apply -f sweep-job.yaml`,
    'apiVersion: batch/v1',
    'kind: Job',
    'metadata:',
    `  name: ${jobName(sweepDir)}`,
    'spec:',
    '  completionMode: Indexed',
    `  completions: ${sweep.cells.length}`,
    `  parallelism: ${opts.parallelism}`,
    `  backoffLimitPerIndex: ${opts.backoffLimitPerIndex}`,
    '  template:',
    '    spec:',
    '      restartPolicy: Never',
    '      containers:',
    '        - name: cell',
    `          image: ${q(opts.image)}`,
    `          command: [${command.map(q).join(', ')}]`,
    '          resources:',
    `            requests: { cpu: ${q(String(opts.cpus))} }`,
    `            limits: { cpu: ${q(String(opts.cpus))} }`,
    '          volumeMounts:',
    `            - { name: sweep, mountPath: ${q(opts.mountPath)} }`,
    '      volumes:',
    `        - { name: sweep, persistentVolumeClaim: { claimName: ${q(opts.pvc)} } }`,
    '',
  ].join('\n');
}
