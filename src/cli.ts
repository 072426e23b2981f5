/**
 * The `metis-bot` command.
 *   metis-bot start [--role all|listener|worker]
 *   metis-bot auth login | import FILE | status | logout
 *   metis-bot doctor
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { redisConnection, redisWhere } from './redis-connection.ts';
import { CommandError, type CommandContext, importFile, login, logout, status } from './auth/commands.ts';
import { ConfigError, loadAccessConfig, loadConfig, renamedVariables } from './config.ts';
import { createLogger, exitOnUncaught } from './logger.ts';
import { formatChecklist, runDoctor } from './ops/doctor.ts';
import { type Role, startService } from './main.ts';
import { useProxyFromEnvironment } from './http/proxy.ts';

const USAGE = `Usage:
  metis-bot start [--role all|listener|worker]
      all       Slack listener and queue workers in one process (default)
      listener  only receive Slack events and queue them
      worker    only answer queued requests (run as many as you like against one Redis)

  metis-bot auth login          log in to Globus as a person (prints a URL; paste back the code)
  metis-bot auth import FILE    use the tokens file written by ALCF's inference_auth_token.py or .sh
  metis-bot auth status         which access the bot has, until when, and whether it works
  metis-bot auth logout         revoke the stored tokens at Globus and delete them

  metis-bot doctor              check configuration, Redis, Slack, the gateway and the token;
                                prints a checklist with the fix for each failure (exit 1 if any)

Configuration comes from environment variables; see README.md.`;

/** Loads a configuration; a bad one is reported one line per problem (and undefined returned). */
function readConfig<T>(load: () => T): T | undefined {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) console.error(`metis-bot: configuration error: ${problem}`);
      return undefined;
    }
    throw err;
  }
}

/** Old variable names keep working, but each start says which name to use instead. */
function warnRenamed(logger: ReturnType<typeof createLogger>): void {
  for (const { variable, use } of renamedVariables()) logger.warn({ variable, use }, `${variable} is deprecated: rename it to ${use}`);
}

async function auth(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const commands: Record<string, (ctx: CommandContext) => Promise<void>> = {
    login,
    import: (ctx) => importFile(ctx, rest[0]),
    status,
    logout,
  };
  const command = sub ? commands[sub] : undefined;
  if (!command) {
    console.error(`metis-bot: auth needs one of: login, import FILE, status, logout\n\n${USAGE}`);
    return 2;
  }
  const config = readConfig(loadAccessConfig);
  if (!config) return 2;
  // Pasting the code Globus shows needs a person at a terminal; without one the prompt could never be answered.
  if (sub === 'login' && !process.stdin.isTTY) {
    console.error(
      'metis-bot: auth login needs a terminal to paste the Globus code into. Run it in an interactive shell ' +
        '(over SSH: ssh -t; with docker compose: docker compose run --rm bot auth login, without -T), ' +
        'or log in elsewhere with inference_auth_token.py and use `metis-bot auth import FILE`.',
    );
    return 2;
  }
  const logger = createLogger('warn');
  warnRenamed(logger);
  const redis = redisConnection(config.redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  // The failure is reported below in one line naming REDIS_URL, not as ioredis's unhandled-error stack.
  let redisError = '';
  redis.on('error', (err: NodeJS.ErrnoException) => {
    redisError = err.code ?? err.message;
  });
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  try {
    await redis.connect().catch((err: Error) => {
      throw new CommandError(`cannot reach Redis at ${redisWhere(config.redisUrl)} (REDIS_URL): ${redisError || err.message}; is it running, and is REDIS_URL the bot's?`);
    });
    await command({ config, redis, logger, io: { out: (line) => console.log(line), ask: (q) => rl.question(q) } });
    return 0;
  } catch (err) {
    if (err instanceof CommandError) {
      console.error(`metis-bot: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    rl.close();
    redis.disconnect();
  }
}

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
  const config = readConfig(loadConfig);
  if (!config) return 2;
  const logger = createLogger(config.logLevel);
  exitOnUncaught(logger);
  warnRenamed(logger);
  let service: Awaited<ReturnType<typeof startService>>;
  try {
    service = await startService(config, { role, logger, answerThread: true });
  } catch (err) {
    logger.fatal({ err }, 'metis-bot could not start');
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

async function doctor(): Promise<number> {
  const results = await runDoctor(process.env, createLogger('silent'));
  console.log(formatChecklist(results));
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  useProxyFromEnvironment();
  switch (command) {
    case 'start':
      return start(rest);
    case 'auth':
      return auth(rest);
    case 'doctor':
      return doctor();
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
