import { UserWindow, UserWindowRequest } from './readUserWindow';

type Read = (request: UserWindowRequest) => Promise<UserWindow>;

/**
 * The walk's next user window, requested as soon as the current one is handed to the
 * engine: authentik answers while the engine stores the batch, instead of after. A
 * prefetched window is used only for exactly the request it was made for (same walk, page,
 * position and anchor); anything else — a rewind, a resume, a failed or aborted prefetch —
 * reads afresh. It changes when the pages are read, never which: no extra requests.
 */
export class WindowPrefetch {
  private pending?: { key: string; window: Promise<UserWindow> };

  start(walkId: string, request: UserWindowRequest, read: Read): void {
    const window = read(request);
    window.catch(() => undefined); // judged (and replaced) when taken
    this.pending = { key: keyOf(walkId, request), window };
  }

  async take(walkId: string, request: UserWindowRequest, read: Read): Promise<UserWindow> {
    const pending = this.pending;
    this.pending = undefined;
    if (pending?.key === keyOf(walkId, request)) {
      try {
        return await pending.window;
      } catch {
        // The burst that asked for it ended (its signal aborted), or authentik failed:
        // read again with this burst's signal, and its errors.
      }
    }
    return read(request);
  }
}

function keyOf(walkId: string, r: UserWindowRequest): string {
  return JSON.stringify([walkId, r.page, r.afterPk, r.anchorFirstPk, r.pageSize, r.concurrency, r.activeOnly, r.types]);
}
