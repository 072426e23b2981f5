/**
 * Display names for user ids (`<@U123>` → "Ada"), so the model sees who said
 * what. Cached per process; a name that cannot be looked up stays the id.
 */
import type { WebClient } from '@slack/web-api';

const TTL_MS = 60 * 60_000;

export class UserNames {
  private readonly cache = new Map<string, { name: string; until: number }>();

  constructor(private readonly client: WebClient) {}

  async lookup(ids: Iterable<string>): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    await Promise.all(
      [...new Set(ids)].map(async (id) => {
        out.set(id, await this.name(id));
      }),
    );
    return out;
  }

  private async name(id: string): Promise<string> {
    const hit = this.cache.get(id);
    if (hit && hit.until > Date.now()) return hit.name;
    let name = id;
    try {
      const res = await this.client.users.info({ user: id });
      const u = res.user;
      name = u?.profile?.display_name || u?.real_name || u?.name || id;
    } catch {
      // users:read missing or a transient failure: the id still identifies the speaker.
    }
    this.cache.set(id, { name, until: Date.now() + TTL_MS });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    return name;
  }
}
