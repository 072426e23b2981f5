import { describe, expect, it } from 'vitest';
import { ConfigError, loadAccessConfig, loadConfig, renamedVariables } from '../src/config.ts';

const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', METIS_ACCESS_TOKEN: 'tok' };

const problem = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return 'no error';
};

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base);
    expect(c.slack.apiUrl).toBe('https://slack.com/api/');
    expect(c.port).toBe(3000);
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.gateway.url).toBe('https://inference-api.alcf.anl.gov/resource_server');
    expect(c.gateway.cluster).toBe('metis');
    expect(c.access).toEqual({ kind: 'static', accessToken: 'tok' });
  });

  it('names the variable, the problem and an example in one line', () => {
    const msg = problem({ ...base, SLACK_BOT_TOKEN: '' });
    expect(msg).toMatch(/^SLACK_BOT_TOKEN: is required.*\(example: SLACK_BOT_TOKEN=xoxb-/);
    expect(msg).not.toContain('\n');
    expect(problem({ ...base, SLACK_BOT_TOKEN: 'xapp-wrong' })).toMatch(/^SLACK_BOT_TOKEN: must start with "xoxb-"/);
    expect(problem({ ...base, PORT: 'eighty' })).toMatch(/^PORT: must be a whole number/);
    expect(problem({ ...base, REDIS_URL: 'localhost' })).toMatch(/^REDIS_URL: must be a URL/);
  });

  it('reports every problem at once, one line each, so a newcomer fixes them in one go', () => {
    const err = (() => {
      try {
        loadConfig({ SLACK_BOT_TOKEN: 'xapp-wrong', PORT: 'eighty', REDIS_URL: 'localhost', METIS_ACCESS_TOKEN: 't', SLACK_SIGNING_SECRET: 's' });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('no error');
    })();
    expect(err.problems.map((p) => p.split(':')[0])).toEqual(['PORT', 'REDIS_URL', 'SLACK_BOT_TOKEN']);
    expect(err.message.split('\n')).toHaveLength(3);
  });

  it('refuses the placeholders of .env.example by name', () => {
    const env = { SLACK_BOT_TOKEN: 'xoxb-...', SLACK_APP_TOKEN: 'xapp-...', METIS_ACCESS_TOKEN: '<output of inference_auth_token.py get_access_token>' };
    const msg = problem(env);
    expect(msg).toMatch(/^SLACK_BOT_TOKEN: is still the placeholder "xoxb-\.\.\." from \.env\.example/m);
    expect(msg).toMatch(/^SLACK_APP_TOKEN: is still the placeholder "xapp-\.\.\."/m);
    expect(msg).toMatch(/^METIS_ACCESS_TOKEN: is still the placeholder/m);
    expect(msg).not.toMatch(/GLOBUS_CLIENT_ID/); // the access that was meant is named, not a generic "none configured"
  });

  it('requires a signing secret in HTTP mode only', () => {
    expect(problem({ SLACK_BOT_TOKEN: 'xoxb-1', METIS_ACCESS_TOKEN: 't' })).toMatch(/^SLACK_SIGNING_SECRET:/);
    expect(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', METIS_ACCESS_TOKEN: 't', SLACK_SIGNING_SECRET: 's' }).slack.appToken).toBeUndefined();
  });

  it('requires some Metis access, and an encryption key for a stored token', () => {
    const slack = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' };
    const key = 'ab'.repeat(32);
    expect(problem(slack)).toMatch(/^GLOBUS_CLIENT_ID: no Metis access/);
    expect(problem({ ...slack, GLOBUS_CLIENT_ID: 'id', GLOBUS_CLIENT_SECRET: 's' })).toMatch(/^TOKEN_ENCRYPTION_KEY: is required/);
    expect(problem({ ...slack, GLOBUS_CLIENT_SECRET: 's', TOKEN_ENCRYPTION_KEY: key })).toMatch(/^GLOBUS_CLIENT_ID: is required when GLOBUS_CLIENT_SECRET/);
    expect(problem({ ...base, TOKEN_ENCRYPTION_KEY: 'short' })).toMatch(/^TOKEN_ENCRYPTION_KEY: each key must be 32 bytes/);
    expect(problem({ ...base, GLOBUS_CLIENT_AUTH: 'digest' })).toMatch(/^GLOBUS_CLIENT_AUTH: must be "post"/);
    expect(problem({ ...base, METIS_ADMIN_USERS: 'alice' })).toMatch(/^METIS_ADMIN_USERS: must be Slack user IDs/);
    const cc = loadConfig({ ...slack, GLOBUS_CLIENT_ID: 'id', GLOBUS_CLIENT_SECRET: 's', TOKEN_ENCRYPTION_KEY: `${key},${Buffer.alloc(32, 1).toString('base64')}` });
    expect(cc.access).toMatchObject({ kind: 'client-credentials', clientAuth: 'post' });
    expect(cc.tokenEncryptionKeys).toHaveLength(2);
  });

  it('uses a stored login when only an encryption key is given, with ALCF\'s native client by default', () => {
    const slack = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) };
    expect(loadConfig(slack).access).toMatchObject({ kind: 'user-login', clientId: '58fdd3bc-e1c3-4ce5-80ea-8d6b87cfb944' });
    expect(loadConfig({ ...slack, GLOBUS_CLIENT_ID: 'my-app' }).access).toMatchObject({ kind: 'user-login', clientId: 'my-app' });
  });

  it('lets the token commands run without any Slack settings', () => {
    const c = loadAccessConfig({ TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32), QUEUE_PREFIX: 'team1' });
    expect(c).toMatchObject({ keyPrefix: 'team1', access: { kind: 'user-login' }, redisUrl: 'redis://127.0.0.1:6379' });
  });

  it('by default one worker holds a minute of the gateway budget\'s answers: the budget, not the worker, is the limit', () => {
    const c = loadConfig(base);
    // 8 starts a second, each answer streaming for up to a minute.
    expect(c.queue.workerConcurrency).toBeGreaterThanOrEqual(c.sharing.gatewayRequestsPerSecond * 60);
  });
});

describe('settings declared once', () => {
  it('builds the same Config shape, durations in milliseconds', () => {
    expect(loadConfig({ ...base, SLACK_API_URL: 'https://slack.example/api', INFERENCE_GATEWAY_URL: 'https://gw.example/rs/' })).toEqual({
      slack: { botToken: 'xoxb-1', appToken: 'xapp-1', apiUrl: 'https://slack.example/api/' },
      port: 3000,
      redisUrl: 'redis://127.0.0.1:6379',
      gateway: { url: 'https://gw.example/rs', cluster: 'metis', streamIdleTimeoutMs: 150_000, requestTimeoutMs: 900_000, attempts: 3, retryBaseMs: 2000 },
      access: { kind: 'static', accessToken: 'tok' },
      tokenEncryptionKeys: [],
      admin: { users: [], accessWaitMs: 900_000, accessProbeMs: 30_000, loginMaxAgeMs: 30 * 86_400_000, loginWarnMs: 3 * 86_400_000 },
      allow: { teams: [], channels: [], users: [], usergroups: [] },
      sharing: {
        gatewayRequestsPerSecond: 8,
        gatewayTokensPerMinute: 0,
        userConcurrency: 3,
        userRequestsPerHour: 0,
        userTokensPerDay: 0,
        channelRequestsPerHour: 0,
        auditContent: false,
        auditRetentionDays: 30,
        tokenLimitBackoffMs: 60_000,
      },
      models: { statusTtlMs: 60_000, coldStartTimeoutMs: 1_800_000, coldStartPollMs: 15_000, contextTokens: new Map() },
      logLevel: 'info',
      queue: { prefix: 'metis', workerConcurrency: 500, workerLockMs: 30_000 },
      slackOutput: { editIntervalMs: 1000, editsPerMinute: 45, streaming: 'auto', streamCallsPerMinute: 18, appendsPerMinute: 90, statusPerMinute: 300, nameLookupsPerMinute: 60, messageMaxChars: 10_000 },
      shutdownGraceMs: 30_000,
      statsIntervalMs: 60_000,
    });
  });

  it('reads each model\'s context window as model=tokens pairs, and names a bad pair', () => {
    const c = loadConfig({ ...base, METIS_MODEL_CONTEXT_TOKENS: 'Meta-Llama-3.3-70B-Instruct=131072, DeepSeek-R1 = 65536' });
    expect([...c.models.contextTokens]).toEqual([
      ['Meta-Llama-3.3-70B-Instruct', 131_072],
      ['DeepSeek-R1', 65_536],
    ]);
    expect(() => loadConfig({ ...base, METIS_MODEL_CONTEXT_TOKENS: 'gpt-oss-120b=131072,DeepSeek-R1' })).toThrow(
      'METIS_MODEL_CONTEXT_TOKENS: must be model=tokens pairs, tokens from 1024 to 10000000, got "DeepSeek-R1"',
    );
    expect(() => loadConfig({ ...base, METIS_MODEL_CONTEXT_TOKENS: 'tiny=512' })).toThrow(/got "tiny=512"/);
  });

  it('takes every duration in seconds (decimals allowed) under a name ending in _SECONDS', () => {
    const c = loadConfig({
      ...base,
      METIS_SLACK_EDIT_INTERVAL_SECONDS: '0.05',
      METIS_GATEWAY_RETRY_BASE_SECONDS: '1.5',
      METIS_COLD_START_TIMEOUT_SECONDS: '90',
      WORKER_LOCK_SECONDS: '2',
    });
    expect([c.slackOutput.editIntervalMs, c.gateway.retryBaseMs, c.models.coldStartTimeoutMs, c.queue.workerLockMs]).toEqual([50, 1500, 90_000, 2000]);
    expect(problem({ ...base, METIS_COLD_START_TIMEOUT_SECONDS: '30m' })).toMatch(
      /^METIS_COLD_START_TIMEOUT_SECONDS: must be a number of seconds from 0 to 86400, got "30m" \(example: METIS_COLD_START_TIMEOUT_SECONDS=1800\)$/,
    );
  });

  it('still reads renamed variables under their old names and units, and says which name to use', () => {
    const old = { ...base, METIS_SLACK_EDIT_INTERVAL_MS: '50', METIS_GATEWAY_RETRY_BASE_MS: '10', METIS_COLD_START_TIMEOUT: '30m' };
    const c = loadConfig(old);
    expect([c.slackOutput.editIntervalMs, c.gateway.retryBaseMs, c.models.coldStartTimeoutMs]).toEqual([50, 10, 1_800_000]);
    expect(loadConfig({ ...base, METIS_COLD_START_TIMEOUT: '0' }).models.coldStartTimeoutMs).toBe(0);
    expect(renamedVariables(old)).toEqual([
      { variable: 'METIS_GATEWAY_RETRY_BASE_MS', use: 'METIS_GATEWAY_RETRY_BASE_SECONDS' },
      { variable: 'METIS_COLD_START_TIMEOUT', use: 'METIS_COLD_START_TIMEOUT_SECONDS' },
      { variable: 'METIS_SLACK_EDIT_INTERVAL_MS', use: 'METIS_SLACK_EDIT_INTERVAL_SECONDS' },
    ]);
    expect(renamedVariables(base)).toEqual([]);
    // A bad old value is named as given, with the example under the new name.
    expect(problem({ ...base, METIS_COLD_START_TIMEOUT: 'soon' })).toMatch(
      /^METIS_COLD_START_TIMEOUT: must be a duration like 1800, 90s, 30m or 2h, got "soon" \(example: METIS_COLD_START_TIMEOUT_SECONDS=1800\)$/,
    );
  });

  it('refuses an old and a new name set together, rather than silently picking one', () => {
    expect(problem({ ...base, METIS_SLACK_EDIT_INTERVAL_MS: '100', METIS_SLACK_EDIT_INTERVAL_SECONDS: '0.05' })).toMatch(
      /^METIS_SLACK_EDIT_INTERVAL_SECONDS: is set, and so is its old name METIS_SLACK_EDIT_INTERVAL_MS: keep only METIS_SLACK_EDIT_INTERVAL_SECONDS/,
    );
  });
});
