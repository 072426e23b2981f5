/**
 * `npm run sandbox`: see @metis answer in a local page that plays Slack, with
 * no credentials. Redis is found as the tests find it: REDIS_URL, or a
 * redis-server from PATH started on a free port in a temporary folder.
 * With INFERENCE_GATEWAY_URL and a token set, the answers come from the real
 * gateway instead of the fake Metis.
 */
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../src/logger.ts';
import { findRedis } from './redis.ts';
import { REAL_GATEWAY_SETTINGS, startSandbox, wantsRealGateway } from './sandbox.ts';

const DEFAULT_PORT = 3300;

async function main(): Promise<void> {
  const settings: Record<string, string> = {};
  for (const name of REAL_GATEWAY_SETTINGS) {
    const value = process.env[name];
    if (value) settings[name] = value;
  }
  const real = wantsRealGateway(settings);
  const port = process.env.SANDBOX_PORT ? Number(process.env.SANDBOX_PORT) : DEFAULT_PORT;

  const logDir = mkdtempSync(join(tmpdir(), 'metis-sandbox-'));
  const logFile = join(logDir, 'service.log');
  const logger = createLogger('info', createWriteStream(logFile));
  const redis = await findRedis(process.env.REDIS_URL);
  let sandbox: Awaited<ReturnType<typeof startSandbox>>;
  try {
    sandbox = await startSandbox({ redisUrl: redis.url, logger, port, ...(real ? { realGateway: settings } : {}) });
  } catch (err) {
    await redis.stop();
    throw err;
  }

  console.log(`
  metis-bot sandbox is running: open ${sandbox.url}

  Say "@metis hello" in #general, or write to metis in its DM. Try /metis-models.
  Slack: a fake workspace in this process (nothing leaves your machine).
  Metis: ${real ? `the REAL gateway at ${settings.INFERENCE_GATEWAY_URL}` : 'a fake gateway with simulated answers (set INFERENCE_GATEWAY_URL and a token for the real one)'}
  Redis: ${redis.own ? 'a redis-server of its own, in a temporary folder' : redis.url}
  The service's log: ${logFile}

  Ctrl-C stops it.
`);

  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping…');
    await sandbox.stop();
    await redis.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((err: unknown) => {
  console.error(`sandbox: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
