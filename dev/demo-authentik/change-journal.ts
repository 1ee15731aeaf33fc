import { GroupRecord, UserRecord } from './types';

/** The stored object a change was about (deleted objects included). */
export type ChangeSubject = { model: 'user'; user: UserRecord } | { model: 'group'; group: GroupRecord };

const LIMIT = 4096;

/**
 * The last few thousand changes, by directory version, so that listing indexes can be
 * patched with just the objects that changed since they were built.
 */
export class ChangeJournal {
  private readonly entries: Array<ChangeSubject & { version: number }> = [];

  record(version: number, subject: ChangeSubject): void {
    this.entries.push({ version, ...subject });
    if (this.entries.length > LIMIT) this.entries.splice(0, this.entries.length - LIMIT / 2);
  }

  /**
   * Users changed after `since` (up to `current`), as the stored objects; `undefined`
   * when the journal no longer reaches back that far.
   */
  usersSince(since: number, current: number): ReadonlySet<UserRecord> | undefined {
    return this.since(since, current, entry => (entry.model === 'user' ? entry.user : undefined));
  }

  groupsSince(since: number, current: number): ReadonlySet<GroupRecord> | undefined {
    return this.since(since, current, entry => (entry.model === 'group' ? entry.group : undefined));
  }

  private since<T>(since: number, current: number, pick: (subject: ChangeSubject) => T | undefined): ReadonlySet<T> | undefined {
    if (since > current) return undefined;
    const touched = new Set<T>();
    if (since === current) return touched;
    if (this.entries.length === 0 || this.entries[0].version > since + 1) return undefined;
    for (let i = this.entries.length - 1; i >= 0 && this.entries[i].version > since; i -= 1) {
      const item = pick(this.entries[i]);
      if (item !== undefined) touched.add(item);
    }
    return touched;
  }
}
