/**
 * A one-node Slurm "cluster" on this machine for the sweep tests: Debian's
 * slurm-wlm and munge, started from a temp folder (a generated munge key,
 * munged as user munge, slurmctld and slurmd in the foreground with a
 * generated slurm.conf: the short host name, proctrack/linuxproc, task/none,
 * select/cons_tres, no accounting, SlurmUser=root, ports apart from the
 * defaults) and stopped by their PIDs. Needs root.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const BINARIES = ['/usr/sbin/munged', '/usr/sbin/mungekey', '/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch'];

/** Why the cluster cannot start here, or null. */
export function slurmMissing(): string | null {
  const absent = BINARIES.filter((b) => !existsSync(b));
  if (absent.length > 0) return `${absent.join(', ')} missing (Debian: apt-get install slurm-wlm munge; .ci/run does)`;
  if (process.getuid?.() !== 0) return 'the test Slurm runs its daemons as root (SlurmUser=root) and munged as user munge: run as root';
  return null;
}

export class SlurmCluster {
  private readonly daemons: ChildProcess[] = [];
  private mungedPidFile = '';
  readonly env: NodeJS.ProcessEnv;

  private constructor(readonly dir: string) {
    this.env = { ...process.env, SLURM_CONF: join(dir, 'slurm.conf') };
  }

  static async start(): Promise<SlurmCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'wasmtail-slurm-'));
    chmodSync(dir, 0o755);
    const cluster = new SlurmCluster(dir);
    try {
      await cluster.startMunge();
      cluster.writeConf();
      for (const daemon of ['/usr/sbin/slurmctld', '/usr/sbin/slurmd']) {
        const child = spawn(daemon, ['-D', '-f', join(dir, 'slurm.conf')], { stdio: 'ignore', env: cluster.env });
        cluster.daemons.push(child);
      }
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const r = spawnSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8', env: cluster.env });
        if (r.status === 0 && /^idle/m.test(r.stdout)) return cluster;
        await sleep(250);
      }
      throw new Error(`slurmd did not come up; see ${dir}/slurmctld.log and ${dir}/slurmd.log`);
    } catch (e) {
      cluster.stop();
      throw e;
    }
  }

  private async startMunge(): Promise<void> {
    const keyDir = join(this.dir, 'munge');
    const socketDir = join(this.dir, 'munge-socket');
    const munge = spawnSync('id', ['-u', 'munge'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'munge'], { encoding: 'utf8' });
    if (munge.status !== 0) throw new Error('no user munge (apt-get install munge creates it)');
    const [uid, g] = [Number(munge.stdout), Number(gid.stdout)];
    for (const [d, mode] of [
      [keyDir, 0o700],
      [socketDir, 0o755],
    ] as const) {
      mkdirSync(d);
      chownSync(d, uid, g);
      chmodSync(d, mode);
    }
    const key = join(keyDir, 'munge.key');
    const made = spawnSync('/usr/sbin/mungekey', ['-c', '-k', key], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`mungekey: ${made.stderr}`);
    chownSync(key, uid, g);
    chmodSync(key, 0o400);
    this.mungedPidFile = join(keyDir, 'munged.pid');
    const r = spawnSync(
      'runuser',
      [
        '-u',
        'munge',
        '--',
        '/usr/sbin/munged',
        `--key-file=${key}`,
        `--socket=${this.socket}`,
        `--pid-file=${this.mungedPidFile}`,
        `--log-file=${join(keyDir, 'munged.log')}`,
        `--seed-file=${join(keyDir, 'munged.seed')}`,
      ],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`munged: ${r.stderr}`);
    const deadline = Date.now() + 10_000;
    while (!existsSync(this.mungedPidFile) && Date.now() < deadline) await sleep(50);
  }

  private get socket(): string {
    return join(this.dir, 'munge-socket', 'munge.socket');
  }

  private writeConf(): void {
    const d = this.dir;
    const host = hostname().split('.')[0];
    for (const sub of ['state', 'spool']) mkdirSync(join(d, sub));
    writeFileSync(
      join(d, 'slurm.conf'),
      [
        'ClusterName=wasmtail-test',
        `SlurmctldHost=${host}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        'AuthType=auth/munge',
        `AuthInfo=socket=${this.socket}`,
        'CredType=cred/munge',
        'SlurmctldPort=46817',
        'SlurmdPort=46818',
        `StateSaveLocation=${d}/state`,
        `SlurmdSpoolDir=${d}/spool`,
        `SlurmctldPidFile=${d}/slurmctld.pid`,
        `SlurmdPidFile=${d}/slurmd.pid`,
        `SlurmctldLogFile=${d}/slurmctld.log`,
        `SlurmdLogFile=${d}/slurmd.log`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_CPU',
        'SchedulerType=sched/backfill',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'JobCompType=jobcomp/none',
        'MpiDefault=none',
        'ReturnToService=2',
        'KillWait=30',
        `NodeName=${host} CPUs=${availableParallelism()} State=UNKNOWN`,
        `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
  }

  /** Runs a Slurm client (sbatch, squeue, scancel, scontrol) against this cluster. */
  client(command: string, ...args: string[]): string {
    const r = spawnSync(command, args, { encoding: 'utf8', env: this.env });
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
    return r.stdout;
  }

  /** State of each task of a job ("1_0" → "RUNNING"), from squeue (completed jobs stay listed for MinJobAge, 300 s). */
  states(jobId: string): Map<string, string> {
    const out = this.client('squeue', '-h', '-t', 'all', '-r', '-j', jobId, '-o', '%i %T');
    return new Map(
      out
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.trim().split(/\s+/) as [string, string]),
    );
  }

  async waitFor(jobId: string, done: (states: string[]) => boolean, timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = [...this.states(jobId).values()];
      if (done(states)) return states;
      if (Date.now() > deadline) throw new Error(`job ${jobId}: still ${states.join(', ')} after ${timeoutMs / 1000} s`);
      await sleep(500);
    }
  }

  /** Stops the daemons by their PIDs (the ones this object started). */
  stop(): void {
    for (const d of this.daemons) if (d.exitCode === null) d.kill('SIGTERM');
    if (this.mungedPidFile && existsSync(this.mungedPidFile)) {
      try {
        process.kill(Number(readFileSync(this.mungedPidFile, 'utf8')), 'SIGTERM');
      } catch {
        // Already gone.
      }
    }
  }
}
