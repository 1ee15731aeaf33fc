/**
 * Child-process plumbing for the replica test: free ports, one temp YAML config per replica,
 * spawning `replicaBackend.ts` with tsx, capturing every log line, waiting on log lines,
 * and killing (politely or with SIGKILL).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, WriteStream, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify } from 'yaml';

const ROOT = resolve(__dirname, '..', '..');
const ENTRY = join(__dirname, 'replicaBackend.ts');

/** A free TCP port on 127.0.0.1 (bound on port 0, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** A scratch directory for configs and full replica logs (kept for post-mortems). */
export function makeRunDir(): string {
  return mkdtempSync(join(tmpdir(), 'bs-replicas-'));
}

export function randomSuffix(bytes = 4): string {
  return randomBytes(bytes).toString('hex');
}

export interface LogRecord {
  /** Receive time in the test process (ms since epoch). */
  at: number;
  level: string;
  message: string;
  /** The parsed JSON record, or `{ message: line }` for a non-JSON line. */
  fields: Record<string, unknown>;
}

export interface ReplicaSpec {
  name: string;
  port: number;
  /** The full app config (written as YAML and passed with `--config`). */
  config: Record<string, unknown>;
  runDir: string;
}

/**
 * One running backend replica. `records` holds every line it printed (stdout and stderr),
 * parsed from JSON (`NODE_ENV=production` makes Backstage's root logger print JSON).
 */
export class ReplicaProcess {
  readonly records: LogRecord[] = [];
  readonly baseUrl: string;
  readonly logFile: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private exitInfo?: { code: number | null; signal: NodeJS.Signals | null };
  private listeners = new Set<() => void>();

  private constructor(readonly spec: ReplicaSpec) {
    this.baseUrl = `http://127.0.0.1:${spec.port}`;
    const configFile = join(spec.runDir, `${spec.name}.yaml`);
    writeFileSync(configFile, stringify(spec.config));
    this.logFile = join(spec.runDir, `${spec.name}.log`);
    this.log = createWriteStream(this.logFile);
    // `node --import tsx` (not the tsx CLI, which runs the script in a grandchild): the pid
    // we signal (SIGKILL, SIGSTOP) is the backend itself.
    this.child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--config', configFile], {
      cwd: ROOT,
      env: {
        ...process.env,
        // Jest sets NODE_ENV=test, which would switch off the scheduler's janitor (the only
        // thing that releases the task lock of a dead replica) and the database keepalive.
        NODE_ENV: 'production',
        LOG_LEVEL: process.env.REPLICAS_LOG_LEVEL ?? 'info',
        REPLICA_PORT: String(spec.port),
        FORCE_COLOR: '0',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Never leave a backend behind, even when the test process exits abruptly.
    const killOnExit = () => this.child.kill('SIGKILL');
    process.once('exit', killOnExit);
    this.exited = new Promise(resolveExit => {
      this.child.once('exit', (code, signal) => {
        process.removeListener('exit', killOnExit);
        this.exitInfo = { code, signal };
        this.notify();
        resolveExit({ code, signal });
      });
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', line => this.onLine(line));
    }
  }

  static start(spec: ReplicaSpec): ReplicaProcess {
    return new ReplicaProcess(spec);
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Messages matching `pattern`, with their captures. */
  matches(pattern: RegExp): Array<{ record: LogRecord; match: RegExpExecArray }> {
    const found: Array<{ record: LogRecord; match: RegExpExecArray }> = [];
    for (const record of this.records) {
      const match = pattern.exec(record.message);
      if (match) found.push({ record, match });
    }
    return found;
  }

  /** Resolves with the first record (from index `from`) for which `predicate` holds. */
  waitForRecord(predicate: (record: LogRecord) => boolean, timeoutMs: number, from = 0, what = 'a log line'): Promise<LogRecord> {
    return new Promise((resolveWait, reject) => {
      let index = from;
      const check = () => {
        for (; index < this.records.length; index++) {
          if (predicate(this.records[index])) {
            done();
            resolveWait(this.records[index]);
            return;
          }
        }
        if (!this.alive) {
          done();
          reject(new Error(`${this.name} exited (${JSON.stringify(this.exitInfo)}) before ${what}; log: ${this.logFile}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; log: ${this.logFile}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  waitForMessage(pattern: RegExp, timeoutMs: number, from = 0): Promise<LogRecord> {
    return this.waitForRecord(r => pattern.test(r.message), timeoutMs, from, `line matching ${pattern}`);
  }

  /** SIGKILL: no shutdown hooks, no lock release, connections simply drop. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000): Promise<void> {
    if (!this.alive) return;
    this.child.kill(signal);
    if (signal !== 'SIGKILL') this.resume(); // a stopped process only handles it once continued
    const timer = new Promise<'timeout'>(r => setTimeout(() => r('timeout'), timeoutMs).unref());
    if ((await Promise.race([this.exited, timer])) === 'timeout' && signal !== 'SIGKILL') {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** SIGSTOP: the process freezes (holds its connections, answers nothing) until `resume()`. */
  pause(): void {
    if (this.alive && this.child.pid) process.kill(this.child.pid, 'SIGSTOP');
  }

  resume(): void {
    if (this.alive && this.child.pid) process.kill(this.child.pid, 'SIGCONT');
  }

  /** The last `count` log lines, for failure messages. */
  tail(count = 40): string {
    return this.records
      .slice(-count)
      .map(r => `[${this.name}] ${r.level} ${r.message}`)
      .join('\n');
  }

  closeLog(): Promise<void> {
    return new Promise(resolveClose => this.log.end(() => resolveClose()));
  }

  private onLine(line: string): void {
    this.log.write(`${line}\n`);
    let fields: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(line);
      fields = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { message: line };
    } catch {
      fields = { message: line };
    }
    this.records.push({
      at: Date.now(),
      level: typeof fields.level === 'string' ? fields.level : 'raw',
      message: typeof fields.message === 'string' ? fields.message : line,
      fields,
    });
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
