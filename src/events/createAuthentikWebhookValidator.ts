import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestDetails, RequestValidationContext, RequestValidator } from '@backstage/plugin-events-node';
import { analyzeAuthentikWebhook } from './analyzeAuthentikWebhook';

export interface WebhookValidatorOptions {
  /** Shared secret; without it every delivery is rejected unless explicitly allowed. */
  secret?: string;
  /** Lower-cased header carrying the secret. `authorization` expects `Bearer <secret>`. */
  header: string;
  dangerouslyAllowUnauthenticated: boolean;
  /** Largest body accepted. authentik's bodies are well under 16 KiB. */
  maxBodyBytes?: number;
  /** Told about every rejection (metrics); never given the secret or the header value. */
  onReject?: (status: number, reason: string) => void;
}

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * Guards `POST /api/events/http/authentik`, which the events backend serves without
 * authentication: checks the shared secret in constant time, then the body's size and
 * shape, so that nothing unauthenticated or malformed reaches the provider.
 */
export function createAuthentikWebhookValidator(options: WebhookValidatorOptions): RequestValidator {
  const expected = options.secret ? digest(expectedValue(options.header, options.secret)) : undefined;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  return async (request: RequestDetails, context: RequestValidationContext) => {
    const reject = (status: number, message: string) => {
      options.onReject?.(status, message);
      context.reject({ status, payload: { error: message } });
    };

    if (!options.dangerouslyAllowUnauthenticated) {
      if (!expected) {
        reject(
          401,
          'Webhooks are disabled: no secret is configured (catalog.providers.authentik.webhook.secret)',
        );
        return;
      }
      const presented = request.headers[options.header];
      if (typeof presented !== 'string' || presented.length === 0) {
        reject(401, `Missing ${options.header} header`);
        return;
      }
      if (options.header === 'authorization' && !/^bearer\s/i.test(presented)) {
        reject(401, 'Expected "Authorization: Bearer <secret>"');
        return;
      }
      if (!timingSafeEqual(digest(normalize(options.header, presented)), expected)) {
        reject(403, 'Invalid webhook secret');
        return;
      }
    }
    // The ingress publishes these very headers as the event's metadata, which the events
    // backend logs at debug level: the secret must not travel on (even when unchecked).
    delete request.headers[options.header];

    if (request.raw.body.length > maxBodyBytes) {
      reject(413, `Body larger than ${maxBodyBytes} bytes`);
      return;
    }
    if (request.body === undefined) {
      // What authentikJsonBodyParser makes of a body that is not JSON.
      reject(400, 'Body is not valid JSON');
      return;
    }
    const analysis = analyzeAuthentikWebhook(request.body);
    if (analysis.result === 'invalid') {
      reject(400, `Not an authentik notification: ${analysis.reason}`);
    }
  };
}

function expectedValue(header: string, secret: string): string {
  return header === 'authorization' ? `Bearer ${secret}` : secret;
}

/** `bearer` is case-insensitive and may be followed by several spaces. */
function normalize(header: string, value: string): string {
  return header === 'authorization' ? value.replace(/^bearer\s+/i, 'Bearer ') : value;
}

/** Fixed-length digests make the comparison constant-time whatever the lengths. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
