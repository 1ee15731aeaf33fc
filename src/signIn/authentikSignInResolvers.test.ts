import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { NotFoundError } from '@backstage/errors';
import { AuthResolverCatalogUserQuery, AuthResolverContext } from '@backstage/plugin-auth-node';
import { MemoryAuthentik } from '../__testUtils__/MemoryAuthentik';
import { walkAll } from '../__testUtils__/walk';
import { authentikSignInResolvers, OidcSubjectResult } from './authentikSignInResolvers';

/** The part of the auth backend's resolver context that catalog lookups go through. */
function contextOver(entities: Entity[]): AuthResolverContext {
  const find = (query: AuthResolverCatalogUserQuery) => {
    if (!('annotations' in query)) throw new Error('only annotation queries are expected');
    const matches = entities.filter(
      e =>
        e.kind === 'User' &&
        Object.entries(query.annotations).every(([key, value]) => e.metadata.annotations?.[key] === value),
    );
    if (matches.length !== 1) throw new NotFoundError(`No user found (${matches.length} matches)`);
    return matches[0];
  };
  return {
    signInWithCatalogUser: async (query: AuthResolverCatalogUserQuery) => ({
      token: `token-for:${stringifyEntityRef(find(query))}`,
    }),
    findCatalogUser: async (query: AuthResolverCatalogUserQuery) => ({ entity: find(query) }),
  } as unknown as AuthResolverContext;
}

function signInInfo(sub: string) {
  return {
    profile: {},
    result: {
      fullProfile: { userinfo: { sub } },
      session: { accessToken: '', tokenType: 'bearer', scope: 'openid' },
    } as OidcSubjectResult,
  };
}

describe('authentikSignInResolvers.subjectMatchingUserEntityAnnotation', () => {
  it('signs in a user without email whose username was changed by sanitisation', async () => {
    const dir = new MemoryAuthentik();
    dir.addGroup({ name: 'staff' }); // a walk that reads no groups at all is refused
    const noEmail = dir.addUser({ username: 'Zoë Müller', email: '' });
    dir.addUser({ username: 'someone' });
    const entities = await walkAll(dir);
    const resolver = authentikSignInResolvers.subjectMatchingUserEntityAnnotation();

    const { uid } = (await dir.getUser(String(noEmail.pk)))!;
    const result = await resolver(signInInfo(uid), contextOver(entities));

    expect(result.token).toBe('token-for:user:default/zo--m-ller');
    expect(entities.find(e => e.metadata.name === 'zo--m-ller')?.spec?.profile).not.toHaveProperty('email');
  });

  it('fails like the built-in resolvers for a subject no entity carries', async () => {
    const dir = new MemoryAuthentik();
    dir.addGroup({ name: 'staff' }); // a walk that reads no groups at all is refused
    dir.addUser({ username: 'alice' });
    const resolver = authentikSignInResolvers.subjectMatchingUserEntityAnnotation();
    await expect(resolver(signInInfo('unknown-sub'), contextOver(await walkAll(dir)))).rejects.toThrow(
      NotFoundError,
    );
  });

  it('matches the numeric pk when authentik\'s subject mode is "user_id"', async () => {
    const dir = new MemoryAuthentik();
    dir.addGroup({ name: 'staff' }); // a walk that reads no groups at all is refused
    dir.addUser({ username: 'alice' });
    const bob = dir.addUser({ username: 'bob' });
    const resolver = authentikSignInResolvers.subjectMatchingUserEntityAnnotation({ subjectMode: 'user_id' });
    const result = await resolver(signInInfo(String(bob.pk)), contextOver(await walkAll(dir)));
    expect(result.token).toBe('token-for:user:default/bob');
  });

  it('rejects a sign-in result without a subject, and unknown options', async () => {
    const resolver = authentikSignInResolvers.subjectMatchingUserEntityAnnotation();
    await expect(resolver(signInInfo(''), contextOver([]))).rejects.toThrow('no "sub" claim');
    expect(() =>
      authentikSignInResolvers.subjectMatchingUserEntityAnnotation({ subjectMode: 'email' } as never),
    ).toThrow();
  });
});
