import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The consumer test (test/consumer/run.sh) runs the README's install snippet: the very same text. */
describe("the README's install snippet", () => {
  it('is the host backend of the consumer test, character for character', () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const install = readme.slice(readme.indexOf('## Install into your backend'));
    const snippet = /```ts\n([\s\S]*?)```/.exec(install)?.[1];
    expect(snippet).toBe(readFileSync(join(__dirname, 'consumer', 'src', 'index.ts'), 'utf8'));
  });
});
