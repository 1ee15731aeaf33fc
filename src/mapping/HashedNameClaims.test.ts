import fc from 'fast-check';
import { HashedNameClaims } from './HashedNameClaims';

describe('HashedNameClaims', () => {
  it('answers like a Map for any names and pks, through growth', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.nat(2 ** 30)), { maxLength: 300 }), entries => {
        const claims = new HashedNameClaims(16);
        const map = new Map<string, number>();
        for (const [name, pk] of entries) {
          claims.set(name, pk);
          map.set(name, pk);
        }
        expect(claims.size).toBe(map.size);
        for (const [name] of entries) expect(claims.get(name)).toBe(map.get(name));
        expect(claims.get('\u0000never-set')).toBe(map.get('\u0000never-set'));
      }),
    );
  });

  it('holds 100,000 names without confusing any two', () => {
    const claims = new HashedNameClaims();
    for (let pk = 0; pk < 100_000; pk++) claims.set(`user.${pk}@example.com`, pk);
    for (let pk = 0; pk < 100_000; pk++) expect(claims.get(`user.${pk}@example.com`)).toBe(pk);
    expect(claims.get('user.100000@example.com')).toBeUndefined();
  });
});
