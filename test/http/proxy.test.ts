/**
 * A bot on a lab network that reaches the internet only through a proxy: with
 * HTTPS_PROXY / HTTP_PROXY set, Slack's Web API, the Socket Mode websocket,
 * Globus and the gateway are all reached through it; NO_PROXY exempts hosts.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { GLOBUS_CLIENT_ID, GLOBUS_CLIENT_SECRET, startFakeGlobus } from '../fakes/globus.ts';
import { BOT_USER_ID } from '../fakes/slack.ts';
import { botEnv, botProcesses, started } from '../helpers/process.ts';
import { startTestProxy } from '../helpers/proxy.ts';
import { waitFor } from '../helpers/wait.ts';

const bots = botProcesses();
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function askThroughBot(extraEnv: (urls: { proxy: string }) => Record<string, string>) {
  const { slack, gateway } = await bots.fakes();
  const valid = ['valid-token'];
  const globus = await startFakeGlobus({
    clientId: GLOBUS_CLIENT_ID,
    clientSecret: GLOBUS_CLIENT_SECRET,
    onIssue: (token) => {
      valid.push(token);
      gateway.setValidTokens(valid);
    },
  });
  const proxy = await startTestProxy();
  servers.push(proxy, globus);
  const env = botEnv(slack, gateway, {
    METIS_ACCESS_TOKEN: '',
    GLOBUS_AUTH_URL: globus.url,
    GLOBUS_CLIENT_ID,
    GLOBUS_CLIENT_SECRET,
    TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    ...extraEnv({ proxy: proxy.url }),
  });
  const bot = bots.run(['start'], env);
  await started(bot);
  await slack.waitForSocket();
  const q = slack.postAsUser({ channel: 'C0CHAN', user: 'U0HUMAN', text: `<@${BOT_USER_ID}> through the proxy?` });
  await slack.sendSocketEvent(slack.eventFor(q, 'app_mention'));
  const answer = await waitFor(
    () => slack.botReplies('C0CHAN', q.ts).find((m) => m.metadata?.event_type === 'metis_answer'),
    'the answer',
    15_000,
  );
  const host = (url: string) => new URL(url).host;
  return { answer, proxy, hosts: { slack: host(slack.apiUrl), gateway: host(gateway.url), globus: host(globus.url) } };
}

describe('outbound connections behind a proxy', () => {
  it('reaches Slack (Web API and Socket Mode), Globus and the gateway through HTTPS_PROXY / HTTP_PROXY', async () => {
    const { answer, proxy, hosts } = await askThroughBot(({ proxy }) => ({ HTTPS_PROXY: proxy, HTTP_PROXY: proxy }));
    expect(answer.text).toContain('through the proxy?');
    // The fake Slack serves the Web API and the websocket on one port; both went through the proxy.
    expect(proxy.targets.filter((t) => t === hosts.slack).length).toBeGreaterThanOrEqual(2);
    expect(proxy.targets).toContain(hosts.gateway);
    expect(proxy.targets).toContain(hosts.globus);
  });

  it('connects directly to hosts named in NO_PROXY', async () => {
    const { answer, proxy } = await askThroughBot(({ proxy }) => ({ HTTPS_PROXY: proxy, HTTP_PROXY: proxy, NO_PROXY: '127.0.0.1' }));
    expect(answer.text).toContain('through the proxy?');
    expect(proxy.targets).toEqual([]);
  });
});
