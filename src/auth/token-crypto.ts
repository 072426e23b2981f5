/**
 * Tokens at rest: AES-256-GCM under TOKEN_ENCRYPTION_KEY. Several keys may be
 * configured, newest first; sealing uses the newest, opening tries each, so a
 * key can be rotated without logging in again.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'v1';
/** GCM's full tag: a shorter one is accepted by Node unless told otherwise, and a 4-byte tag is forgeable. */
const TAG_BYTES = 16;

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

export class TokenCrypto {
  constructor(private readonly keys: Buffer[]) {
    if (keys.length === 0) throw new Error('TokenCrypto needs at least one key');
  }

  /** `aad` binds a sealed value to its purpose (its Redis key), so values cannot be swapped. */
  seal(plaintext: string, aad: string): string {
    const key = this.keys[0] as Buffer;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, keyId(key), iv.toString('base64'), tag.toString('base64'), body.toString('base64')].join('.');
  }

  /** The plaintext, or undefined when no configured key opens it (or it was tampered with). */
  open(sealed: string, aad: string): string | undefined {
    const [version, id, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || !id || !iv || !tag || body === undefined) return undefined;
    const tagBytes = Buffer.from(tag, 'base64');
    if (tagBytes.length !== TAG_BYTES) return undefined;
    for (const key of this.keys) {
      if (keyId(key) !== id) continue;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), { authTagLength: TAG_BYTES });
        decipher.setAAD(Buffer.from(aad));
        decipher.setAuthTag(tagBytes);
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
      } catch {
        return undefined;
      }
    }
    return undefined;
  }
}
