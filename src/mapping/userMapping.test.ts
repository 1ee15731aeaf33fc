import {
  DefaultNamespaceEntityPolicy,
  EntityPolicies,
  FieldFormatEntityPolicy,
  NoForeignRootFieldsEntityPolicy,
  SchemaValidEntityPolicy,
  UserEntity,
  userEntityV1alpha1Validator,
} from '@backstage/catalog-model';
import fc from 'fast-check';
import { aGroup, aUser, BASE_URL, groupUuid, mappingOptions, undashed } from '../__testUtils__/fixtures';
import { AuthentikUser } from '../client/schemas';
import { GroupIndex } from './groupIndex';
import { claimName } from './nameClaims';
import { isValidEntityName } from './names';
import { MappingOptions, UserTransformer } from './types';
import { eligibleUserTypes, isEligibleUser, mapUser, userBaseName, userNameSuffixes } from './userMapping';

const USER_TYPES = ['internal', 'external', 'service_account', 'internal_service_account'] as const;

const catalogPolicy = EntityPolicies.allOf([
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
  new SchemaValidEntityPolicy(),
]);

async function expectAcceptedByCatalog(entity: UserEntity): Promise<void> {
  await expect(catalogPolicy.enforce(entity)).resolves.toBeDefined();
  await expect(userEntityV1alpha1Validator.check(entity)).resolves.toBe(true);
}

const emptyIndex = () => GroupIndex.build([], mappingOptions());

async function map(
  user: AuthentikUser,
  options: Partial<MappingOptions> = {},
  groups?: GroupIndex,
  transform?: UserTransformer,
): Promise<UserEntity | undefined> {
  return mapUser(user, userBaseName(user), groups ?? (await emptyIndex()), mappingOptions(options), transform);
}

/** Names for users claimed the way the walk does: ascending pk, one claims map. */
function claimAll(users: AuthentikUser[]) {
  const claims = new Map<string, string>();
  const sorted = [...users].sort((a, b) => a.pk - b.pk);
  const result = new Map<number, string>();
  const collisions = [];
  for (const user of sorted) {
    const claim = claimName(claims, userBaseName(user), String(user.pk), userNameSuffixes(user));
    result.set(user.pk, claim.name);
    if (claim.collision) collisions.push(claim.collision);
  }
  return { names: result, collisions };
}

describe('isEligibleUser', () => {
  it.each<[boolean, string, boolean, boolean]>([
    // is_active, type, includeServiceAccounts → eligible
    [true, 'internal', false, true],
    [true, 'external', false, true],
    [true, 'service_account', false, false],
    [true, 'internal_service_account', false, false],
    [true, 'internal', true, true],
    [true, 'external', true, true],
    [true, 'service_account', true, true],
    [true, 'internal_service_account', true, true],
    [false, 'internal', false, false],
    [false, 'external', false, false],
    [false, 'service_account', true, false],
    [false, 'internal_service_account', true, false],
    [false, 'internal', true, false],
  ])('is_active=%s type=%s includeServiceAccounts=%s → %s', (isActive, type, includeServiceAccounts, eligible) => {
    const user = aUser({ is_active: isActive, type });
    expect(isEligibleUser(user, { includeServiceAccounts })).toBe(eligible);
  });

  it.each([false, true])(
    'agrees with the server-side type filter (includeServiceAccounts=%s)',
    includeServiceAccounts => {
      const types = eligibleUserTypes({ includeServiceAccounts });
      for (const type of USER_TYPES) {
        const serverSide = types === undefined || types.includes(type);
        expect(isEligibleUser(aUser({ type }), { includeServiceAccounts })).toBe(serverSide);
      }
    },
  );

  it('eligibleUserTypes', () => {
    expect(eligibleUserTypes({ includeServiceAccounts: false })).toEqual(['internal', 'external']);
    expect(eligibleUserTypes({ includeServiceAccounts: true })).toBeUndefined();
  });
});

describe('mapUser', () => {
  it('maps an active user to a User entity', async () => {
    const user = aUser({
      pk: 42,
      username: 'jdoe',
      name: 'Jane Doe',
      email: 'jane@example.com',
      avatar: 'https://secure.gravatar.com/avatar/abc?s=158',
    });
    const entity = await map(user);
    expect(entity).toEqual({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: {
        name: 'jdoe',
        annotations: {
          'backstage.io/managed-by-location': `url:${BASE_URL}/`,
          'backstage.io/managed-by-origin-location': `url:${BASE_URL}/`,
          'goauthentik.io/user-pk': '42',
          'goauthentik.io/user-uid': user.uid,
          'goauthentik.io/username': 'jdoe',
        },
      },
      spec: {
        profile: {
          displayName: 'Jane Doe',
          email: 'jane@example.com',
          picture: 'https://secure.gravatar.com/avatar/abc?s=158',
        },
        memberOf: [],
      },
    });
    await expectAcceptedByCatalog(entity!);
  });

  it('uses the name it is given, not one of its own', async () => {
    const user = aUser({ pk: 7, username: 'jdoe' });
    const entity = await mapUser(user, 'jdoe-7', await emptyIndex(), mappingOptions());
    expect(entity!.metadata.name).toBe('jdoe-7');
  });

  it.each<[string, Partial<AuthentikUser>, Partial<MappingOptions>, boolean]>([
    ['active internal', { type: 'internal' }, {}, true],
    ['active external', { type: 'external' }, {}, true],
    ['inactive', { is_active: false }, {}, false],
    ['inactive, service accounts included', { is_active: false, type: 'service_account' }, { includeServiceAccounts: true }, false],
    ['service_account', { type: 'service_account' }, {}, false],
    ['internal_service_account (outpost)', { type: 'internal_service_account', username: 'ak-outpost-1' }, {}, false],
    ['service_account, included', { type: 'service_account' }, { includeServiceAccounts: true }, true],
    ['internal_service_account, included', { type: 'internal_service_account' }, { includeServiceAccounts: true }, true],
  ])('%s', async (_label, overrides, options, mapped) => {
    const entity = await map(aUser(overrides), options);
    expect(entity === undefined).toBe(!mapped);
    if (entity) expect(entity.kind).toBe('User');
  });

  it('does not call the transformer for an ineligible user', async () => {
    const transform = jest.fn((entity: UserEntity) => entity);
    await map(aUser({ is_active: false }), {}, undefined, transform);
    expect(transform).not.toHaveBeenCalled();
  });

  describe('profile.email', () => {
    it.each([
      ['empty', ''],
      ['blank', '   '],
    ])('is omitted (no key at all) when %s', async (_label, email) => {
      const entity = await map(aUser({ email }));
      expect(entity!.spec.profile).not.toHaveProperty('email');
      expect(Object.keys(entity!.spec.profile!)).not.toContain('email');
      await expectAcceptedByCatalog(entity!);
    });

    it.each([
      ['jane@example.com', 'jane@example.com'],
      [' jane@example.com ', 'jane@example.com'],
    ])('is kept: %j → %j', async (email, expected) => {
      const entity = await map(aUser({ email }));
      expect(entity!.spec.profile!.email).toBe(expected);
    });
  });

  describe('profile.displayName', () => {
    it.each([
      ['Jane Doe', 'jdoe', 'Jane Doe'],
      ['  Jane Doe  ', 'jdoe', 'Jane Doe'],
      ['', 'jdoe', 'jdoe'],
      ['   ', 'jdoe', 'jdoe'],
      ['\t\n', 'Jane.Doe@Example.com', 'Jane.Doe@Example.com'],
    ])('name %j, username %j → %j', async (name, username, expected) => {
      const entity = await map(aUser({ name, username }));
      expect(entity!.spec.profile!.displayName).toBe(expected);
    });
  });

  describe('profile.picture', () => {
    it.each<[string, string | null | undefined, string | undefined]>([
      ['https URL', 'https://authentik.example.com/media/avatars/jane.png', 'https://authentik.example.com/media/avatars/jane.png'],
      ['http URL', 'http://gravatar.example/avatar/1', 'http://gravatar.example/avatar/1'],
      ['uppercase scheme', 'HTTPS://cdn.example.com/a.png', 'HTTPS://cdn.example.com/a.png'],
      ['data: URI (authentik initials avatar)', 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=', undefined],
      ['relative path', '/static/dist/assets/images/user_default.png', undefined],
      ['other scheme', 'ftp://example.com/a.png', undefined],
      ['javascript: URI', 'javascript:alert(1)', undefined],
      ['empty', '', undefined],
      ['null', null, undefined],
      ['undefined', undefined, undefined],
    ])('%s', async (_label, avatar, expected) => {
      const entity = await map(aUser({ avatar }));
      if (expected === undefined) {
        expect(entity!.spec.profile).not.toHaveProperty('picture');
      } else {
        expect(entity!.spec.profile!.picture).toBe(expected);
      }
    });
  });

  it.each([
    ['https://authentik.example.com', 'url:https://authentik.example.com/'],
    ['https://sso.example.org/auth', 'url:https://sso.example.org/auth/'],
  ])('annotates its origin: baseUrl %s → %s', async (baseUrl, location) => {
    const user = aUser({ pk: 9 });
    const entity = await map(user, { baseUrl });
    expect(entity!.metadata.annotations).toEqual({
      'backstage.io/managed-by-location': location,
      'backstage.io/managed-by-origin-location': location,
      'goauthentik.io/user-pk': '9',
      'goauthentik.io/user-uid': user.uid,
      'goauthentik.io/username': 'user9',
    });
  });

  describe('spec.memberOf', () => {
    const zeta = aGroup({ num_pk: 1, name: 'Zeta' });
    const alpha = aGroup({ num_pk: 2, name: 'Alpha' });
    const admins = aGroup({ num_pk: 3, name: 'Authentik Admins' });
    const mid = aGroup({ num_pk: 4, name: 'Mid' });
    const options = { excludeGroups: ['authentik-admins'] };

    it.each<[string, string[], string[]]>([
      ['none', [], []],
      ['sorted', [zeta.pk, mid.pk, alpha.pk], ['alpha', 'mid', 'zeta']],
      ['excluded group dropped', [admins.pk, alpha.pk], ['alpha']],
      ['only an excluded group', [admins.pk], []],
      ['unknown group UUID dropped', [groupUuid(9999), zeta.pk], ['zeta']],
      ['duplicates (dashed and undashed) once', [zeta.pk, undashed(zeta.pk), zeta.pk.toUpperCase()], ['zeta']],
      [
        'everything at once',
        [groupUuid(9999), admins.pk, zeta.pk, undashed(alpha.pk), alpha.pk, undashed(admins.pk)],
        ['alpha', 'zeta'],
      ],
    ])('%s', async (_label, groups, expected) => {
      const index = await GroupIndex.build([zeta, alpha, admins, mid], mappingOptions(options));
      const entity = await map(aUser({ groups }), options, index);
      expect(entity!.spec.memberOf).toEqual(expected);
    });

    it('uses the names groups got after collisions and transformers', async () => {
      const older = aGroup({ num_pk: 1, name: 'dev ops' });
      const newer = aGroup({ num_pk: 2, name: 'Dev Ops' });
      const renamed = aGroup({ num_pk: 3, name: 'Engineering' });
      const skipped = aGroup({ num_pk: 4, name: 'Secret' });
      const index = await GroupIndex.build([older, newer, renamed, skipped], mappingOptions(), (entity, group) => {
        if (group.name === 'Secret') return undefined;
        if (group.name === 'Engineering') return { ...entity, metadata: { ...entity.metadata, name: 'eng' } };
        return entity;
      });
      const entity = await map(aUser({ groups: [renamed.pk, skipped.pk, newer.pk, older.pk] }), {}, index);
      expect(entity!.spec.memberOf).toEqual(['dev-ops', 'dev-ops-2', 'eng']);
    });
  });

  describe('transformer', () => {
    it('gets the default entity, the raw user and the context; its result is used', async () => {
      const user = aUser({ pk: 5 });
      const transform = jest.fn<ReturnType<UserTransformer>, Parameters<UserTransformer>>((entity, raw) => ({
        ...entity,
        metadata: { ...entity.metadata, description: `authentik user ${raw.pk}` },
      }));
      const entity = await map(user, { instanceId: 'corp' }, undefined, transform);
      expect(transform).toHaveBeenCalledTimes(1);
      const [defaultEntity, raw, context] = transform.mock.calls[0];
      expect(defaultEntity.metadata.name).toBe('user5');
      expect(raw).toBe(user);
      expect(context).toEqual({ instanceId: 'corp', baseUrl: BASE_URL });
      expect(entity!.metadata.description).toBe('authentik user 5');
    });

    it.each([
      ['sync', () => undefined],
      ['async', async () => undefined],
    ])('returning undefined (%s) leaves the user out', async (_label, fn) => {
      expect(await map(aUser(), {}, undefined, fn)).toBeUndefined();
    });
  });
});

describe('user entity names', () => {
  it.each<[string, number, string]>([
    ['jdoe', 1, 'jdoe'],
    ['JDoe', 1, 'jdoe'],
    ['jane.doe@example.com', 1, 'jane.doe-example.com'],
    ['Jane Doe', 1, 'jane-doe'],
    ['ak-outpost-0a1b2c3d', 1, 'ak-outpost-0a1b2c3d'],
    ['-jdoe-', 1, 'jdoe'],
    ['山田', 17, 'user-17'],
    ['!!!', 9, 'user-9'],
    ['x'.repeat(80), 1, 'x'.repeat(63)],
  ])('userBaseName(username %j, pk %d) → %j', (username, pk, expected) => {
    expect(userBaseName(aUser({ pk, username }))).toBe(expected);
  });

  it('userNameSuffixes: the pk, then u<pk>', () => {
    expect(userNameSuffixes(aUser({ pk: 42 }))).toEqual(['42', 'u42']);
  });

  it('the lowest pk keeps a contested name, whatever order users come in', () => {
    const users = [aUser({ pk: 10, username: 'JDoe' }), aUser({ pk: 3, username: 'jdoe' }), aUser({ pk: 7, username: 'j doe' })];
    for (const order of [users, [...users].reverse()]) {
      const { names, collisions } = claimAll(order);
      expect(names.get(3)).toBe('jdoe');
      expect(names.get(10)).toBe('jdoe-10');
      expect(names.get(7)).toBe('j-doe');
      expect(collisions).toEqual([{ name: 'jdoe', keptBy: '3', renamed: '10', assigned: 'jdoe-10' }]);
    }
  });

  it('a pk suffix already held by a real username falls through to u<pk>', () => {
    const { names } = claimAll([
      aUser({ pk: 3, username: 'jdoe' }),
      aUser({ pk: 5, username: 'jdoe-10' }),
      aUser({ pk: 10, username: 'JDoe' }),
    ]);
    expect(names.get(3)).toBe('jdoe');
    expect(names.get(5)).toBe('jdoe-10');
    expect(names.get(10)).toBe('jdoe-u10');
  });

  it('a fallback name that collides with a real username', () => {
    const { names } = claimAll([aUser({ pk: 2, username: 'user-9' }), aUser({ pk: 9, username: '!!!' })]);
    expect(names.get(2)).toBe('user-9');
    expect(names.get(9)).toBe('user-9-9');
  });

  it('claiming again for the same user (a resumed walk) keeps its name and records no collision', () => {
    const claims = new Map<string, string>();
    const older = aUser({ pk: 1, username: 'jdoe' });
    const newer = aUser({ pk: 2, username: 'JDoe' });
    for (let round = 0; round < 2; round++) {
      expect(claimName(claims, userBaseName(older), '1', userNameSuffixes(older))).toEqual({ name: 'jdoe' });
      expect(claimName(claims, userBaseName(newer), '2', userNameSuffixes(newer)).name).toBe('jdoe-2');
    }
  });

  it('property: names are valid and unique; the lowest pk of a base name keeps it', () => {
    const usersArb = fc
      .uniqueArray(fc.integer({ min: 1, max: 60 }), { maxLength: 25 })
      .chain(pks =>
        fc.tuple(
          fc.constant(pks),
          fc.array(fc.string({ unit: fc.constantFrom('j', 'J', 'd', ' ', '-', '1', '0', 'u', '@', '.'), maxLength: 5 }), {
            minLength: pks.length,
            maxLength: pks.length,
          }),
        ),
      )
      .map(([pks, usernames]) => pks.map((pk, i) => aUser({ pk, username: usernames[i] })));
    fc.assert(
      fc.property(usersArb, users => {
        const { names } = claimAll(users);
        const all = [...names.values()];
        expect(new Set(all).size).toBe(all.length);
        for (const name of all) expect(isValidEntityName(name)).toBe(true);
        const byBase = new Map<string, number>();
        for (const user of users) {
          const base = userBaseName(user);
          byBase.set(base, Math.min(byBase.get(base) ?? Infinity, user.pk));
        }
        for (const [base, lowest] of byBase) {
          // The base is held by its lowest pk, unless a lower pk got it as a disambiguated name.
          const holder = [...names].find(([, name]) => name === base)?.[0];
          expect(holder).toBeDefined();
          expect(holder! <= lowest).toBe(true);
          if (holder !== lowest) expect(userBaseName(users.find(u => u.pk === holder)!)).not.toBe(base);
        }
      }),
      { numRuns: 500 },
    );
  });
});
