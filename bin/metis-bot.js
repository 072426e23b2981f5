#!/usr/bin/env node
// Runs the compiled CLI; `npm run build` (or `npm start`) compiles it first.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
if (!existsSync(cli)) {
  console.error('metis-bot: not built yet. Run `npm run build` (or `npm start`, which builds first).');
  process.exit(2);
}
const { main } = await import(pathToFileURL(cli).href);
process.exit(await main(process.argv.slice(2)));
