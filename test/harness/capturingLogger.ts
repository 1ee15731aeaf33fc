import type { RootLoggerService } from '@backstage/backend-plugin-api';
import { coreServices, createServiceFactory } from '@backstage/backend-plugin-api';
import { inspect } from 'node:util';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

const LEVELS: Record<LogLevel | 'none', number> = { none: 0, error: 1, warn: 2, info: 3, debug: 4 };

export interface LogRecord {
  level: LogLevel;
  message: string;
  /** Child-logger labels and the call's own meta (errors included). */
  meta: Record<string, unknown>;
  /** `message` and `meta` flattened to one searchable string (errors with their stack). */
  text: string;
}

/**
 * Every log line of a test backend, at every level (debug included), kept in memory so
 * that tests can search them (e.g. for leaked secrets). Printing is off unless
 * `AUTHENTIK_TEST_LOG_LEVEL` (error|warn|info|debug) is set.
 */
export class LogCapture {
  readonly records: LogRecord[] = [];
  private printLevel: number;

  constructor(private readonly label = 'backend') {
    const wanted = (process.env.AUTHENTIK_TEST_LOG_LEVEL ?? 'none') as LogLevel | 'none';
    this.printLevel = LEVELS[wanted] ?? 0;
  }

  /** The root logger service, to install in `startTestBackend`'s features. */
  factory() {
    return createServiceFactory({
      service: coreServices.rootLogger,
      deps: {},
      factory: () => this.logger({}),
    });
  }

  logger(labels: Record<string, unknown>): RootLoggerService {
    const log = (level: LogLevel) => (message: string, meta?: Error | Record<string, unknown>) =>
      this.add(level, message, labels, meta);
    return {
      error: log('error'),
      warn: log('warn'),
      info: log('info'),
      debug: log('debug'),
      child: (meta: Record<string, unknown>) => this.logger({ ...labels, ...meta }),
    };
  }

  /**
   * Stops printing (records are still kept): called once the backend has stopped, so that
   * nothing it still logs reaches jest's console after the test file ended (jest then sets
   * a failing exit code, which CI trusts).
   */
  close(): void {
    this.printLevel = 0;
  }

  /** Every record's text joined: the haystack for leak checks. */
  allText(): string {
    return this.records.map(r => r.text).join('\n');
  }

  find(pattern: RegExp | string, level?: LogLevel): LogRecord[] {
    return this.records.filter(
      r => (level === undefined || r.level === level) && (typeof pattern === 'string' ? r.text.includes(pattern) : pattern.test(r.text)),
    );
  }

  /** Records (at `minLevel` or more severe) containing `needle`. */
  containing(needle: string, minLevel: LogLevel = 'debug'): LogRecord[] {
    return this.records.filter(r => LEVELS[r.level] <= LEVELS[minLevel] && r.text.includes(needle));
  }

  private add(level: LogLevel, message: unknown, labels: Record<string, unknown>, meta: unknown): void {
    const metaObject: Record<string, unknown> =
      meta instanceof Error ? { ...labels, error: meta } : { ...labels, ...(isObject(meta) ? meta : {}) };
    const text = `${String(message)} ${flatten(metaObject)}`;
    this.records.push({ level, message: String(message), meta: metaObject, text });
    if (LEVELS[level] <= this.printLevel) {
      // eslint-disable-next-line no-console
      console.log(`[${this.label}] ${level} ${text}`);
    }
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Everything a log transport could print: nested values, errors with message and stack. */
function flatten(value: unknown): string {
  return inspect(value, { depth: 8, breakLength: Infinity, maxStringLength: Infinity, maxArrayLength: Infinity });
}
