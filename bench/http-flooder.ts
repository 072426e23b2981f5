/**
 * The attacker of the http-flood bench, in a process of its own (as it would
 * be on another machine): holds `holders` connections to /slack/events, each
 * declaring a body of `declared` bytes, sending one byte less and waiting;
 * every connection the listener drops is opened again, up to
 * `maxConnections` in all. Stops on SIGTERM or after `seconds`, and prints
 * how many connections it opened.
 * Usage: tsx bench/http-flooder.ts PORT HOLDERS DECLARED MAX_CONNECTIONS SECONDS
 */
import { connect, type Socket } from 'node:net';

const [port, holders, declared, maxConnections, seconds] = process.argv.slice(2).map(Number) as [number, number, number, number, number];
const body = Buffer.alloc(declared - 1, 'x');
let opened = 0;
let flooding = true;
const sockets = new Set<Socket>();

function open(): void {
  if (!flooding || opened >= maxConnections) return;
  opened++;
  const s = connect(port, '127.0.0.1');
  sockets.add(s);
  s.on('error', () => {});
  s.on('close', () => {
    sockets.delete(s);
    open();
  });
  // A well-formed signature dated now passes the header checks; only the HMAC (after the body) would fail.
  s.write(
    `POST /slack/events HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n` +
      `x-slack-request-timestamp: ${Math.floor(Date.now() / 1000)}\r\nx-slack-signature: v0=${'ab'.repeat(32)}\r\n\r\n`,
  );
  s.write(body);
}

function stop(): void {
  flooding = false;
  for (const s of sockets) s.destroy();
  console.log(JSON.stringify({ opened }));
  process.exit(0);
}

for (let i = 0; i < holders; i++) open();
console.log('flooding');
process.on('SIGTERM', stop);
setTimeout(stop, seconds * 1000);
