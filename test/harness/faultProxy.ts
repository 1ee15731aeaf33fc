/**
 * An HTTP proxy in front of the demo authentik that answers chosen requests itself, the
 * way an ingress or a misconfigured token would: an HTML 404 during a rolling deploy, an
 * empty 200 listing. Everything else is forwarded unchanged.
 */
import { createServer, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';

export interface InjectedAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** Decides, per request URL (path and query), whether to answer it instead of authentik. */
export type FaultRule = (url: URL) => InjectedAnswer | undefined;

/** Changes authentik's JSON answer to a forwarded request (return it unchanged to pass it on). */
export type JsonRewrite = (url: URL, body: unknown) => unknown;

export interface FaultProxy {
  /** Root URL to configure as the provider's `baseUrl`. */
  readonly url: string;
  /** Requests answered by the rule so far. */
  readonly injected: number;
  /** Answer matching requests with the rule's answer; `undefined` forwards everything. */
  setRule(rule: FaultRule | undefined): void;
  /** Rewrite authentik's JSON answers; `undefined` forwards them unchanged. */
  setRewrite(rewrite: JsonRewrite | undefined): void;
  stop(): Promise<void>;
}

export const HTML_404: InjectedAnswer = {
  status: 404,
  contentType: 'text/html',
  body: '<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>',
};

/** What a token without `authentik_core.view_group` sees (internal service accounts). */
export const EMPTY_LIST: InjectedAnswer = {
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify({
    pagination: { next: 0, previous: 0, count: 0, current: 1, total_pages: 1, start_index: 0, end_index: 0 },
    results: [],
    autocomplete: {},
  }),
};

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  let rule: FaultRule | undefined;
  let rewrite: JsonRewrite | undefined;
  let injected = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', target);
    const answer = rule?.(url);
    if (answer) {
      injected += 1;
      req.resume();
      res.writeHead(answer.status, { 'content-type': answer.contentType });
      res.end(answer.body);
      return;
    }
    forward(req, `${target}${url.pathname}${url.search}`).then(
      async upstream => {
        const headers: Record<string, string> = {};
        upstream.headers.forEach((value, name) => {
          if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(name)) headers[name] = value;
        });
        let body = Buffer.from(await upstream.arrayBuffer());
        if (rewrite && upstream.headers.get('content-type')?.includes('json')) {
          body = Buffer.from(JSON.stringify(rewrite(url, JSON.parse(body.toString('utf8')))));
        }
        res.writeHead(upstream.status, headers);
        res.end(body);
      },
      () => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('Bad gateway');
      },
    );
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get injected() {
      return injected;
    },
    setRule(next) {
      rule = next;
    },
    setRewrite(next) {
      rewrite = next;
    },
    stop: () =>
      new Promise<void>(resolve => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function forward(req: IncomingMessage, url: string): Promise<Response> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === 'string' && name !== 'host' && name !== 'connection') headers[name] = value;
  }
  return fetch(url, {
    method: req.method,
    headers,
    body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    redirect: 'manual',
  });
}
