import { mockServices } from '@backstage/backend-test-utils';
import { Entity } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { locationAnnotations } from '../mapping/defaultTransformers';
import { ANNOTATION_USER_PK } from '../mapping/types';
import { CatalogServiceView } from './CatalogServiceView';

const baseUrl = 'https://authentik.example.com';

function user(name: string, pk: string, memberOf: string[]): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name, annotations: { ...locationAnnotations(baseUrl), [ANNOTATION_USER_PK]: pk } },
    spec: { profile: { email: `${name}@example.com` }, memberOf },
  };
}

describe('CatalogServiceView', () => {
  it('looks entities up by ref in order, undefined where the catalog holds none', async () => {
    const catalog = catalogServiceMock({ entities: [user('jane', '1', ['team']), user('john', '2', [])] });
    const view = new CatalogServiceView(catalog, mockServices.auth(), baseUrl);
    const found = await view.entitiesAt(['user:default/john', 'user:default/nobody', 'user:default/jane']);
    expect(found.map(e => e?.metadata.name)).toEqual(['john', undefined, 'jane']);
    expect(found[2]?.spec?.memberOf).toEqual(['team']);
    expect(found[2]?.metadata.annotations?.[ANNOTATION_USER_PK]).toBe('1');
  });
});
