import { CustomErrorBase } from '@backstage/errors';
import type { HttpBodyParserOptions } from '@backstage/plugin-events-node';

/** A declared charset Node cannot decode: 415, as the events backend answers it. */
class UnsupportedCharsetError extends CustomErrorBase {
  override name = 'UnsupportedCharsetError';
  statusCode = 415;
  constructor(charset: string) {
    super(`Unsupported charset: ${charset}`);
  }
}

/**
 * The `application/json` parser of the events backend's HTTP ingress. The events extension
 * point registers parsers per content type for every topic, so this one parses exactly as
 * the events backend's own parser does (plugin-events-backend 0.6) — except on the authentik
 * webhook topics, where a body that is not JSON becomes `undefined` (no JSON text parses to
 * that) instead of a SyntaxError the backend answers with 500. The webhook validator then
 * refuses it with 400, after the secret check.
 */
export function createAuthentikJsonBodyParser(authentikTopics: ReadonlySet<string>): HttpBodyParserOptions {
  return {
    contentType: 'application/json',
    parser: async (request, parsedMediaType, topic) => {
      const bodyBuffer: unknown = request.body;
      if (!Buffer.isBuffer(bodyBuffer)) {
        throw new Error(`Failed to retrieve raw body from incoming event for topic ${topic}; not a buffer: ${typeof bodyBuffer}`);
      }
      const encoding = parsedMediaType.parameters.charset ?? 'utf-8';
      if (!Buffer.isEncoding(encoding)) {
        throw new UnsupportedCharsetError(encoding);
      }
      const text = bodyBuffer.toString(encoding);
      const bodyParsed = authentikTopics.has(topic) ? parseOrUndefined(text) : JSON.parse(text);
      return { bodyParsed, bodyBuffer, encoding };
    },
  };
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
