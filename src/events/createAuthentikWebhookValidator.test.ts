import { RequestRejectionDetails } from '@backstage/plugin-events-node';
import { createAuthentikWebhookValidator, WebhookValidatorOptions } from './createAuthentikWebhookValidator';

const SECRET = 's3cret-value';
const body = { version: 1, event_pk: 'a'.repeat(32), action: 'model_updated', model: { pk: 1, app: 'authentik_core', model_name: 'user', name: 'A' } };

/** `payload` defaults to a valid body; an explicit `undefined` is a body that was not JSON. */
async function validate(options: Partial<WebhookValidatorOptions>, headers: Record<string, string>, ...explicit: [unknown?]) {
  const payload = explicit.length > 0 ? explicit[0] : body;
  const validator = createAuthentikWebhookValidator({
    secret: SECRET,
    header: 'authorization',
    dangerouslyAllowUnauthenticated: false,
    ...options,
  });
  let rejection: Partial<RequestRejectionDetails> | undefined;
  const raw = Buffer.from(JSON.stringify(payload) ?? '');
  const request = { body: payload, headers: { ...headers }, raw: { body: raw, encoding: 'utf-8' as const } };
  await validator(request, { reject: d => (rejection = d ?? {}) });
  if (!rejection) {
    // Accepted: the secret is not passed on with the published event (its metadata).
    expect(Object.values(request.headers).join(' ')).not.toContain(SECRET);
  }
  return rejection;
}

describe('createAuthentikWebhookValidator', () => {
  it.each([
    ['accepts the Bearer secret', {}, { authorization: `Bearer ${SECRET}` }, undefined],
    ['accepts a lower-case scheme', {}, { authorization: `bearer ${SECRET}` }, undefined],
    ['rejects a missing header', {}, {}, 401],
    ['rejects another scheme', {}, { authorization: `Basic ${SECRET}` }, 401],
    ['rejects a wrong secret', {}, { authorization: 'Bearer nope' }, 403],
    ['rejects a secret with extra text', {}, { authorization: `Bearer ${SECRET}x` }, 403],
    ['reads a custom header', { header: 'x-backstage-token' }, { 'x-backstage-token': SECRET }, undefined],
    ['rejects everything without a secret', { secret: undefined }, { authorization: `Bearer ${SECRET}` }, 401],
    ['accepts anything when explicitly opted out', { secret: undefined, dangerouslyAllowUnauthenticated: true }, {}, undefined],
    [
      'opted out, still does not pass on a secret sent anyway',
      { dangerouslyAllowUnauthenticated: true },
      { authorization: `Bearer ${SECRET}` },
      undefined,
    ],
  ])('%s', async (_name, options, headers, status) => {
    const rejection = await validate(options, headers);
    expect(rejection?.status).toBe(status);
    expect(JSON.stringify(rejection ?? {})).not.toContain(SECRET);
  });

  it('rejects oversized and malformed bodies after authenticating', async () => {
    const auth = { authorization: `Bearer ${SECRET}` };
    expect((await validate({ maxBodyBytes: 10 }, auth))?.status).toBe(413);
    expect((await validate({}, auth, { version: 1, action: 42 }))?.status).toBe(400);
    expect((await validate({}, auth, 'just a string'))?.status).toBe(400);
    // A body that is not JSON (authentikJsonBodyParser hands it on as undefined).
    expect(await validate({}, auth, undefined)).toEqual({ status: 400, payload: { error: 'Body is not valid JSON' } });
    expect((await validate({}, {}, undefined))?.status).toBe(401);
    expect(await validate({}, auth, { body: 'Test Notification from transport backstage' })).toBeUndefined();
  });
});
