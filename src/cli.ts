/**
 * The `metis-bot` command.
 *   metis-bot start [--role all|listener|worker]
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { type Role, startService } from './main.ts';

const USAGE = `Usage: metis-bot start [--role all|listener|worker]

  all       Slack listener and queue workers in one process (default)
  listener  only receive Slack events and queue them
  worker    only answer queued requests (run as many as you like against one Redis)

Configuration comes from environment variables; see README.md.`;

async function start(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { role: { type: 'string', default: 'all' }, help: { type: 'boolean' } } });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const role = values.role as Role;
  if (!['all', 'listener', 'worker'].includes(role)) {
    console.error(`metis-bot: --role must be all, listener or worker (got "${values.role}")`);
    return 2;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`metis-bot: configuration error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  let service: Awaited<ReturnType<typeof startService>>;
  try {
    service = await startService(config, { role, logger });
  } catch (err) {
    logger.fatal({ err: { name: (err as Error).name, message: (err as Error).message } }, 'metis-bot could not start');
    return 1;
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      void service.stop().then(resolve, resolve);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  logger.info('stopped');
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return start(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    default:
      console.error(`metis-bot: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop() ?? '');
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
