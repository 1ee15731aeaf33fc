import { Entity } from '@backstage/catalog-model';
import { PlannedDelta, RemovedEntity } from './DeltaPlanner';
import { DeltaKind, DeltaRemovalGuard } from './DeltaRemovalGuard';

const removed = (kind: DeltaKind, count: number): RemovedEntity[] =>
  Array.from({ length: count }, (_, i) => ({ kind, name: `${kind.toLowerCase()}-${i}`, pk: String(i) }));
const added: Entity[] = [{ apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'new' }, spec: {} }];

function guard(inCatalog: Record<DeltaKind, number>, rejectRemovalsAbovePercentage = 25) {
  const asked: DeltaKind[] = [];
  const g = new DeltaRemovalGuard({
    rejectRemovalsAbovePercentage,
    countInCatalog: async kind => {
      asked.push(kind);
      return inCatalog[kind];
    },
  });
  return { g, asked };
}

const delta = (...parts: RemovedEntity[][]): PlannedDelta => ({ added, removed: parts.flat(), requests: 1, confirm: { users: new Set(), groups: new Set() } });

describe('DeltaRemovalGuard', () => {
  it('lets a delta remove a share of each kind up to the threshold', async () => {
    const { g } = guard({ User: 100, Group: 8 });
    const planned = delta(removed('User', 25), removed('Group', 2));
    await expect(g.apply(planned)).resolves.toEqual({ delta: planned, refused: [] });
  });

  it('refuses the removals (not the additions) of a delta that removes every group, however many users there are', async () => {
    const { g } = guard({ User: 1500, Group: 61 });
    const { delta: allowed, refused } = await g.apply(delta(removed('Group', 61)));
    expect(allowed.removed).toEqual([]);
    expect(allowed.added).toEqual(added);
    expect(refused).toEqual([{ kind: 'Group', removed: 61, inCatalog: 61, percent: 100 }]);
  });

  it('counts users separately: many users at once is refused too, and drops the whole delta\'s removals', async () => {
    const { g } = guard({ User: 40, Group: 10 });
    const { delta: allowed, refused } = await g.apply(delta(removed('User', 11), removed('Group', 1)));
    expect(allowed.removed).toEqual([]);
    expect(refused.map(r => r.kind)).toEqual(['User']);
  });

  it('one removal of a kind is always allowed, and needs no count', async () => {
    const { g, asked } = guard({ User: 2, Group: 1 });
    const planned = delta(removed('User', 1), removed('Group', 1));
    await expect(g.apply(planned)).resolves.toEqual({ delta: planned, refused: [] });
    expect(asked).toEqual([]);
  });

  it('an empty catalog of that kind counts as 100 %', async () => {
    const { g } = guard({ User: 0, Group: 0 });
    const { refused } = await g.apply(delta(removed('User', 2)));
    expect(refused).toEqual([{ kind: 'User', removed: 2, inCatalog: 0, percent: 100 }]);
  });

  it('0 disables the guard, like the engine\'s option', async () => {
    const { g, asked } = guard({ User: 10, Group: 10 }, 0);
    const planned = delta(removed('User', 10), removed('Group', 10));
    await expect(g.apply(planned)).resolves.toEqual({ delta: planned, refused: [] });
    expect(asked).toEqual([]);
  });
});
