import type { Request } from 'express';
import { createAuthentikJsonBodyParser } from './authentikJsonBodyParser';

const { contentType, parser } = createAuthentikJsonBodyParser(new Set(['authentik', 'authentik.second']));

function parse(topic: string, body: unknown, charset?: string) {
  const request = { body } as unknown as Request;
  return parser(request, { type: 'application/json', parameters: charset ? { charset } : {} }, topic);
}

describe('createAuthentikJsonBodyParser', () => {
  it('replaces the application/json parser', () => {
    expect(contentType).toBe('application/json');
  });

  it.each(['authentik', 'authentik.second', 'github'])('parses JSON on %s as the events backend does', async topic => {
    const raw = Buffer.from('{"version":1,"action":"model_updated"}');
    await expect(parse(topic, raw)).resolves.toEqual({
      bodyParsed: { version: 1, action: 'model_updated' },
      bodyBuffer: raw,
      encoding: 'utf-8',
    });
  });

  it('hands a body that is not JSON on an authentik topic to the validator as undefined', async () => {
    const raw = Buffer.from('{"version": 1,');
    await expect(parse('authentik.second', raw)).resolves.toEqual({ bodyParsed: undefined, bodyBuffer: raw, encoding: 'utf-8' });
  });

  it('keeps the events backend behaviour on other topics: a SyntaxError', async () => {
    await expect(parse('github', Buffer.from('{"version": 1,'))).rejects.toThrow(SyntaxError);
    await expect(parse('authentik.other', Buffer.from('not json'))).rejects.toThrow(SyntaxError);
  });

  it('decodes the declared charset and refuses one Node does not know with 415', async () => {
    const raw = Buffer.from('{"name":"Zoë"}', 'latin1');
    await expect(parse('authentik', raw, 'latin1')).resolves.toMatchObject({ bodyParsed: { name: 'Zoë' }, encoding: 'latin1' });
    await expect(parse('github', raw, 'ebcdic')).rejects.toMatchObject({ statusCode: 415 });
  });

  it('fails as the events backend does when the raw body is missing', async () => {
    await expect(parse('authentik', { already: 'parsed' })).rejects.toThrow(/not a buffer/);
  });
});
