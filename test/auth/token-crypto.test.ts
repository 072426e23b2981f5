import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TokenCrypto } from '../../src/auth/token-crypto.ts';

describe('TokenCrypto', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('opens what it sealed, and the sealed text does not contain the secret', () => {
    const c = new TokenCrypto([newKey]);
    const sealed = c.seal('Ag-secret-token', 'k1');
    expect(sealed).not.toContain('Ag-secret-token');
    expect(c.open(sealed, 'k1')).toBe('Ag-secret-token');
  });

  it('opens values sealed under an older key after rotation', () => {
    const sealed = new TokenCrypto([oldKey]).seal('token', 'k');
    expect(new TokenCrypto([newKey, oldKey]).open(sealed, 'k')).toBe('token');
    expect(new TokenCrypto([newKey]).open(sealed, 'k')).toBeUndefined();
  });

  it('refuses tampered values and values moved to another key name', () => {
    const c = new TokenCrypto([newKey]);
    const sealed = c.seal('token', 'k');
    const parts = sealed.split('.');
    parts[4] = Buffer.from('forged').toString('base64');
    expect(c.open(parts.join('.'), 'k')).toBeUndefined();
    expect(c.open(sealed, 'other-key')).toBeUndefined();
    expect(c.open('garbage', 'k')).toBeUndefined();
  });
});

describe('TokenCrypto authentication tags', () => {
  it('refuses a value whose GCM tag was cut short (a short tag is forgeable)', () => {
    const c = new TokenCrypto([randomBytes(32)]);
    const parts = c.seal('token', 'k').split('.');
    for (const bytes of [4, 8, 12, 15]) {
      const cut = [...parts];
      cut[3] = Buffer.from(parts[3] as string, 'base64').subarray(0, bytes).toString('base64');
      expect(c.open(cut.join('.'), 'k')).toBeUndefined();
    }
    expect(c.open(parts.join('.'), 'k')).toBe('token');
  });
});
