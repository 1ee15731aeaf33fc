import { IncomingMessage, ServerResponse } from 'node:http';

/** An error that becomes a JSON response (DRF style: `{"detail": ...}` or field errors). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
    this.name = 'HttpError';
  }

  static detail(status: number, detail: string): HttpError {
    return new HttpError(status, { detail });
  }

  /** A DRF validation error: `{"field": ["message"]}`. */
  static field(field: string, message: string): HttpError {
    return new HttpError(400, { [field]: [message] });
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** `sendJson` for a body already serialized. */
export function sendJsonText(res: ServerResponse, status: number, payload: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, headers);
  res.end();
}

const MAX_BODY_BYTES = 1024 * 1024;

/** The parsed JSON body (`undefined` when empty); 400 when it is not JSON. */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw HttpError.detail(413, 'Request body too large.');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw HttpError.detail(400, 'JSON parse error.');
  }
}

/** Django REST framework's rendering of datetimes: ISO 8601, `Z`, microseconds when non-zero. */
export function drfDateTime(epochMs: number): string {
  // Serialising a 100k directory formats every user's dates on every page: remember them.
  let text = formattedDates.get(epochMs);
  if (text === undefined) {
    if (formattedDates.size >= MAX_FORMATTED_DATES) formattedDates.clear();
    text = formatDrfDateTime(epochMs);
    formattedDates.set(epochMs, text);
  }
  return text;
}

const formattedDates = new Map<number, string>();
const MAX_FORMATTED_DATES = 500_000;

function formatDrfDateTime(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  const millis = iso.slice(20, 23);
  return millis === '000' ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 19)}.${millis}000Z`;
}
