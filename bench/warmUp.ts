/** The users list exactly as the walk asks for it (see `AuthentikClient.listUsers`). */
export function usersPageUrl(url: string, page: number, pageSize: number): string {
  return `${url}/api/v3/core/users/?ordering=pk&page=${page}&page_size=${pageSize}&include_groups=false&include_roles=false&is_active=true&type=internal&type=external`;
}

/**
 * Builds the demo authentik's cached sort/filter of both listings, so every walk meets the
 * same server state; unless `coldServer`, also has it serialize every user once (see the
 * demo authentik's `userJson`): authentik's own time is the latency, and the stand-in's
 * CPU, on the machine that runs the walk, would otherwise be measured as the walk's.
 */
export async function warmUp(url: string, token: string, pageSize: number, coldServer: boolean): Promise<void> {
  const headers = { Authorization: `Bearer ${token}` };
  const groups = `${url}/api/v3/core/groups/?ordering=pk&page=1&page_size=${pageSize}&include_users=false&include_children=false&include_parents=false&include_roles=false`;
  const read = async (target: string): Promise<{ pagination: { total_pages: number } }> => {
    const response = await fetch(target, { headers });
    if (!response.ok) throw new Error(`warm-up ${target} answered ${response.status}`);
    return (await response.json()) as { pagination: { total_pages: number } };
  };
  await read(groups);
  const { pagination } = await read(usersPageUrl(url, 1, pageSize));
  if (coldServer) return;
  let next = 2;
  const reader = async () => {
    while (next <= pagination.total_pages) await read(usersPageUrl(url, next++, pageSize));
  };
  await Promise.all(Array.from({ length: 32 }, reader));
}
