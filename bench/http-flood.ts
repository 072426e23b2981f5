/**
 * HTTP mode under a flood of requests that never finish: connections that
 * pass the cheap header checks (a well-formed signature, dated now, forged)
 * and send a body one byte short of what they declare, just under the cap,
 * then hold — the strongest form of the 4 MB unsigned-body attack the front
 * lets through to the body stage. Each connection the listener drops is
 * opened again (bounded in count and time). Meanwhile correctly signed
 * events are sent and timed. Loopback only; the attacker runs in a process
 * of its own (bench/http-flooder.ts).
 */
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import type { FakeSlack } from '../test/fakes/slack.ts';
import { sleep, waitFor } from '../test/helpers/wait.ts';
import { DEFAULT_HTTP_INTAKE_LIMITS } from '../src/slack/http-intake.ts';

export interface HttpFloodResult {
  holders: number;
  connectionsOpened: number;
  floodSeconds: number;
  rssMb: { before: number; peakDuring: number; after: number };
  signedAcks: { sent: number; ok: number; p50Ms: number; p99Ms: number; maxMs: number; past3s: number };
  healthzMaxMs: number;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : Number.NaN;
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export async function httpFlood(opts: {
  eventsUrl: string;
  listenerPid: number;
  slack: FakeSlack;
  /** The bot's user id, for the signed mentions. */
  botUserId: string;
  quick: boolean;
}): Promise<HttpFloodResult> {
  const { port, origin } = new URL(opts.eventsUrl);
  const holders = 500;
  const floodMs = opts.quick ? 5_000 : 15_000;
  const maxConnections = opts.quick ? 2_000 : 6_000;
  const declared = DEFAULT_HTTP_INTAKE_LIMITS.maxBodyBytes - 1;

  const signed = async (n: number) => {
    const m = opts.slack.postAsUser({ channel: 'C0FLOOD', user: 'U0HUMAN', text: `<@${opts.botUserId}> flood ${n}` });
    const unanswered = sleep(10_000).then(() => ({ status: 0, ms: Number.NaN }));
    const sent = opts.slack.sendHttpEvent(opts.eventsUrl, opts.slack.eventFor(m, 'app_mention')).catch(() => ({ status: 0, ms: Number.NaN }));
    return Promise.race([sent, unanswered]);
  };
  // Warm the listener up (its first requests run unoptimised code) before measuring its resting size.
  for (let i = 0; i < 20; i++) await signed(-i);
  await sleep(1000);
  const before = rssMb(opts.listenerPid);

  const flooder = spawn(process.execPath, ['--import', 'tsx', 'bench/http-flooder.ts', port, String(holders), String(declared), String(maxConnections), String(floodMs / 1000 + 30)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  flooder.stdout.on('data', (d) => {
    out += String(d);
  });
  const exited = new Promise((r) => flooder.once('exit', r));
  await waitFor(() => out.includes('flooding'), 'the flooder to start', 30_000);

  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(rssMb(opts.listenerPid)), 250);
  const acks: { status: number; ms: number }[] = [];
  const healthz: number[] = [];
  const started = Date.now();
  for (let n = 0; Date.now() - started < floodMs; n++) {
    const [ack, health] = await Promise.all([
      signed(n),
      (async () => {
        const t = performance.now();
        await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.arrayBuffer(), () => undefined);
        return performance.now() - t;
      })(),
    ]);
    acks.push(ack);
    healthz.push(health);
    await sleep(250);
  }
  clearInterval(sampler);
  const floodSeconds = (Date.now() - started) / 1000;
  flooder.kill('SIGTERM');
  await exited;
  const opened = Number(/"opened":(\d+)/.exec(out)?.[1]);
  await sleep(3000);
  const after = rssMb(opts.listenerPid);
  const okMs = acks.filter((a) => a.status === 200).map((a) => a.ms);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    holders,
    connectionsOpened: opened,
    floodSeconds: r1(floodSeconds),
    rssMb: { before, peakDuring: Math.max(...samples), after },
    signedAcks: {
      sent: acks.length,
      ok: okMs.length,
      p50Ms: r1(pct(okMs, 50)),
      p99Ms: r1(pct(okMs, 99)),
      maxMs: r1(Math.max(...okMs)),
      past3s: acks.filter((a) => a.status !== 200 || a.ms > 3000).length,
    },
    healthzMaxMs: r1(Math.max(...healthz)),
  };
}
