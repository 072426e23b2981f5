/**
 * What one start of the service asks of Slack: the bot's identity once per
 * process, whichever roles it runs (the listener's Slack app is told who the
 * bot is rather than asking again), and a bot token Slack refuses stops the
 * start with a line that names SLACK_BOT_TOKEN.
 */
import { inject } from 'vitest';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startService } from '../../src/main.ts';
import { startFakeSlack, APP_TOKEN, type FakeSlack } from '../fakes/slack.ts';
import { capturedLogger } from '../helpers/captured-logger.ts';
import { type Harness, startHarness } from '../helpers/harness.ts';

let h: Harness | undefined;
let slack: FakeSlack | undefined;
afterEach(async () => {
  await h?.stop();
  await slack?.close();
  h = undefined;
  slack = undefined;
});

describe('one start, one identity', () => {
  for (const mode of ['socket', 'http'] as const) {
    it(`asks Slack who the bot is once when one process runs both roles (${mode} mode), and still answers`, async () => {
      h = await startHarness({ mode });
      expect(h.slack.callsOf('auth.test')).toHaveLength(1);
      const m = await h.mention({ text: '<@UBOT> hello' });
      await h.reply(m);
      // Answering took no second look-up either (Bolt's own client would make one per event if it did not know the bot).
      expect(h.slack.callsOf('auth.test')).toHaveLength(1);
    });
  }
});

describe('a bot token Slack refuses', () => {
  for (const role of ['all', 'listener', 'worker'] as const) {
    it(`stops the start of the ${role} role naming SLACK_BOT_TOKEN and Slack's reason`, async () => {
      slack = await startFakeSlack();
      const config = loadConfig({
        SLACK_BOT_TOKEN: 'xoxb-revoked',
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: slack.apiUrl,
        REDIS_URL: inject('redisUrl'),
        INFERENCE_GATEWAY_URL: 'http://127.0.0.1:9/',
        METIS_ACCESS_TOKEN: 'valid-token',
        QUEUE_PREFIX: `t-badtoken-${role}`,
        PORT: '0',
      });
      const { logger } = capturedLogger('warn');
      const start = startService(config, { role, logger });
      await expect(start).rejects.toThrow(/SLACK_BOT_TOKEN.*invalid_auth|invalid_auth.*SLACK_BOT_TOKEN/);
      // Refused before anything else asked Slack: no socket was opened for a bot that cannot post.
      expect(slack.callsOf('apps.connections.open')).toHaveLength(0);
    });
  }
});
