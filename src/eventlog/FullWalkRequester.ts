import type { Knex } from 'knex';

/** What a request for a full walk did. */
export type WalkRequestOutcome =
  /** The engine was resting: its rest ends now and a new walk starts. */
  | 'started'
  /** A walk is running: it may have read pages before the gap, so ask again once it ends. */
  | 'walk-running'
  /** The engine is creating a new ingestion: a fresh walk starts anyway. */
  | 'starting';

/**
 * Starts a full walk of one provider in-process, the way the incremental engine's admin
 * route `POST /incremental/providers/:name/trigger` does: it moves the open ingestion's
 * `next_action_at` to now (the engine's own `triggerNextProviderAction`), but only while
 * the engine rests — bringing the next burst of a running walk forward would not re-read
 * the pages that walk already read.
 */
export class FullWalkRequester {
  constructor(
    private readonly database: () => Promise<Knex>,
    private readonly providerName: string,
  ) {}

  async request(): Promise<WalkRequestOutcome> {
    const db = await this.database();
    const open = db('ingestions').where({ provider_name: this.providerName, completion_ticket: 'open' });
    const record: { status: string } | undefined = await open.clone().first('status');
    if (!record) return 'starting';
    if (record.status !== 'resting') return 'walk-running';
    await open.clone().update({ next_action_at: new Date() });
    return 'started';
  }
}
