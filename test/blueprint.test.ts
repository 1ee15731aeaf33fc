import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import {
  AUTHENTIK_WEBHOOK_BODY_MAPPING,
  AUTHENTIK_WEBHOOK_HEADER_MAPPING,
} from '../src/events/analyzeAuthentikWebhook';

const blueprintPath = join(__dirname, '..', 'authentik', 'backstage-catalog.blueprint.yaml');

interface Entry {
  model: string;
  id?: string;
  identifiers: Record<string, unknown>;
  attrs: Record<string, unknown>;
}

function entries(): Entry[] {
  // authentik's custom tags (!Env, !KeyOf, …) are kept as plain values.
  const doc = parseDocument(readFileSync(blueprintPath, 'utf8'), {
    customTags: ['Env', 'KeyOf', 'Find', 'Format', 'Context'].map(tag => ({
      tag: `!${tag}`,
      resolve: (value: unknown) => ({ [tag]: value }),
      collection: undefined,
    })).flatMap(t => [t, { ...t, collection: 'seq' as const }]),
  });
  return (doc.toJS() as { entries: Entry[] }).entries;
}

function expression(name: string): string {
  const entry = entries().find(e => e.identifiers.name === name);
  return String(entry?.attrs.expression);
}

/** authentik runs a property mapping as the body of a function: check that it compiles so. */
function compilesAsPython(source: string): void {
  const wrapped = `def mapping(notification, user, request):\n${source
    .split('\n')
    .map(line => `    ${line}`)
    .join('\n')}\n`;
  execFileSync('python3', ['-c', 'import sys; compile(sys.stdin.read(), "mapping", "exec")'], { input: wrapped, stdio: 'pipe' });
}

describe('the authentik blueprint', () => {
  it('carries exactly the body and header mappings the module documents and parses', () => {
    expect(expression('backstage-catalog-webhook-body')).toBe(AUTHENTIK_WEBHOOK_BODY_MAPPING);
    expect(expression('backstage-catalog-webhook-headers')).toBe(AUTHENTIK_WEBHOOK_HEADER_MAPPING);
  });

  it('has mappings that are valid Python as authentik runs them', () => {
    compilesAsPython(AUTHENTIK_WEBHOOK_BODY_MAPPING);
    compilesAsPython(AUTHENTIK_WEBHOOK_HEADER_MAPPING);
    expect(() => compilesAsPython('return {')).toThrow();
  });

  it('creates the account, token, role, destination group, policies, rule and transport', () => {
    const all = entries();
    const byModel = (model: string) => all.filter(e => e.model === model);
    expect(byModel('authentik_rbac.role')[0].attrs.permissions).toEqual([
      'authentik_core.view_user',
      'authentik_core.view_group',
      'authentik_events.view_event',
    ]);
    expect(byModel('authentik_core.token')[0].attrs).toMatchObject({ intent: 'api', expiring: false });
    expect(byModel('authentik_core.group')[0].attrs.users).toEqual([{ KeyOf: 'backstage-account' }]);
    const policies = byModel('authentik_policies_event_matcher.eventmatcherpolicy').map(p => p.attrs);
    for (const model of ['authentik_core.user', 'authentik_core.group']) {
      for (const action of ['model_created', 'model_updated', 'model_deleted']) {
        expect(policies).toContainEqual(expect.objectContaining({ model, action }));
      }
    }
    expect(policies.every(p => p.app === undefined)).toBe(true);
    expect(byModel('authentik_policies.policybinding')).toHaveLength(6);
    expect(byModel('authentik_events.notificationtransport')[0].attrs).toMatchObject({
      mode: 'webhook',
      send_once: true,
    });
    expect(JSON.stringify(byModel('authentik_events.notificationtransport')[0].attrs.webhook_url)).toContain(
      '/api/events/http/authentik',
    );
  });
});
