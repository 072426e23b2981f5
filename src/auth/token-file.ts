/**
 * Reads the tokens file ALCF's scripts write, for `metis-bot auth import`:
 * - inference_auth_token.py (globus-sdk JSONTokenStorage, format 2.0, keyed
 *   by namespace then resource server; the older 1.0 `by_rs` layout too);
 * - inference_auth_token.sh (a flat object with expires_at).
 * Only the gateway's tokens are taken.
 */
import { GATEWAY_RESOURCE_SERVER } from './globus.ts';

export interface ImportedTokens {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds; 0 when the file does not say. */
  expiresAt: number;
  clientId?: string;
  format: 'globus-sdk 2.0' | 'globus-sdk 1.0' | 'flat';
}

export class TokenFileError extends Error {}

type Entry = Record<string, unknown>;

function fromEntry(entry: Entry | undefined, format: ImportedTokens['format'], clientId?: string): ImportedTokens {
  if (!entry || typeof entry.access_token !== 'string')
    throw new TokenFileError(`the file has no access token for the inference gateway (resource server ${GATEWAY_RESOURCE_SERVER})`);
  if (typeof entry.refresh_token !== 'string' || entry.refresh_token === '')
    throw new TokenFileError('the file has no refresh token, so the bot could not renew access; run `python inference_auth_token.py authenticate` and import again');
  const seconds = Number(entry.expires_at_seconds ?? entry.expires_at ?? 0);
  return {
    accessToken: entry.access_token,
    refreshToken: entry.refresh_token,
    expiresAt: Number.isFinite(seconds) ? seconds * 1000 : 0,
    ...(clientId ? { clientId } : {}),
    format,
  };
}

export function parseTokenFile(text: string): ImportedTokens {
  let doc: Entry;
  try {
    doc = JSON.parse(text) as Entry;
  } catch {
    throw new TokenFileError('the file is not JSON; give the tokens.json (or tokens-bash.json) that inference_auth_token wrote');
  }
  if (doc.format_version === '2.0' && doc.data && typeof doc.data === 'object') {
    const namespaces = doc.data as Record<string, Record<string, Entry>>;
    const ns = namespaces.DEFAULT?.[GATEWAY_RESOURCE_SERVER] ? namespaces.DEFAULT : Object.values(namespaces).find((n) => n?.[GATEWAY_RESOURCE_SERVER]);
    return fromEntry(ns?.[GATEWAY_RESOURCE_SERVER], 'globus-sdk 2.0');
  }
  if (doc.format_version === '1.0' && doc.by_rs && typeof doc.by_rs === 'object') {
    return fromEntry((doc.by_rs as Record<string, Entry>)[GATEWAY_RESOURCE_SERVER], 'globus-sdk 1.0');
  }
  if (typeof doc.access_token === 'string') {
    if (doc.resource_server !== undefined && doc.resource_server !== GATEWAY_RESOURCE_SERVER)
      throw new TokenFileError(`the tokens in this file are for ${String(doc.resource_server)}, not the inference gateway`);
    return fromEntry(doc, 'flat', typeof doc.client_id === 'string' ? doc.client_id : undefined);
  }
  throw new TokenFileError('unrecognised tokens file: expected the format of inference_auth_token.py (format_version 2.0) or of inference_auth_token.sh');
}
