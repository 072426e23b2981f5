/**
 * Slack's request signature (v0): a cheap look at the headers before any of
 * the body is read, the HMAC once it is, and a fleet-wide record of
 * signatures already used so a captured request cannot be replayed.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Redis } from 'ioredis';
import { redisKeys } from '../redis-keys.ts';

/** Slack's window: a request dated further than this from now, in either direction, is refused. */
export const MAX_SKEW_SECONDS = 300;

/**
 * How long a used signature is remembered: any request still inside the
 * window of some listener whose clock is itself within the window of ours.
 */
export const SEEN_SIGNATURE_TTL_MS = 2 * MAX_SKEW_SECONDS * 1000;

export type SignatureHeaders = { ok: true; signature: string; timestampSeconds: number } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'future' };

const SIGNATURE_FORMAT = /^v0=[0-9a-f]{64}$/;
const TIMESTAMP_FORMAT = /^\d{1,12}$/;

/** Checks the signature headers' presence, shape and date; needs nothing of the body. */
export function checkSignatureHeaders(headers: IncomingHttpHeaders, nowMs: number): SignatureHeaders {
  const signature = headers['x-slack-signature'];
  const timestamp = headers['x-slack-request-timestamp'];
  if (signature === undefined || timestamp === undefined) return { ok: false, reason: 'missing' };
  if (typeof signature !== 'string' || typeof timestamp !== 'string') return { ok: false, reason: 'malformed' };
  if (!SIGNATURE_FORMAT.test(signature) || !TIMESTAMP_FORMAT.test(timestamp)) return { ok: false, reason: 'malformed' };
  const timestampSeconds = Number(timestamp);
  const skewSeconds = timestampSeconds - nowMs / 1000;
  if (skewSeconds < -MAX_SKEW_SECONDS) return { ok: false, reason: 'stale' };
  if (skewSeconds > MAX_SKEW_SECONDS) return { ok: false, reason: 'future' };
  return { ok: true, signature, timestampSeconds };
}

/** Whether `signature` is Slack's v0 HMAC of this timestamp and body under `secret`. */
export function signatureMatches(secret: string, timestampSeconds: number, body: Buffer, signature: string): boolean {
  const expected = createHmac('sha256', secret).update(`v0:${timestampSeconds}:`).update(body).digest();
  const given = Buffer.from(signature.slice('v0='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Signatures already used, across every listener sharing the Redis. Only a
 * verified signature is recorded (a forged one would let anyone fill Redis).
 * A request we failed to answer with a 2xx gives its claim back, so that if
 * Slack redelivers it unchanged, the redelivery is handled; Slack's usual
 * retries are signed afresh anyway, and an event retried is deduplicated by
 * its event_id further on.
 */
export class SeenSignatures {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  private key(signature: string): string {
    return redisKeys(this.keyPrefix).seenSignature(signature.slice('v0='.length));
  }

  /** True the first time a signature is claimed within the TTL, false for a replay. */
  async claim(signature: string): Promise<boolean> {
    return (await this.redis.set(this.key(signature), '1', 'PX', SEEN_SIGNATURE_TTL_MS, 'NX')) === 'OK';
  }

  async release(signature: string): Promise<void> {
    await this.redis.del(this.key(signature));
  }
}
