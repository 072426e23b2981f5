/**
 * The gateway's answers for a prompt longer than the model's context window,
 * in each shape the contract gives (§2.4, §5, §8), become one error code.
 */
import { describe, expect, it } from 'vitest';
import { userMessageFor } from '../../src/errors.ts';
import { translateGatewayFailure, translateInBandError } from '../../src/gateway/errors.ts';

const SAMBANOVA =
  '{"error": {"message": "The maximum context length of DeepSeek-V3-0324 is 32768. However, answering your request will take 39732 tokens. Please reduce the length of the messages or the specified max_completion_tokens value.", "type": "invalid_request_error", "param": null, "code": "context_length_exceeded"}}';
const MODEL = 'DeepSeek-V3-0324';

describe('a prompt too long for the model', () => {
  it('non-streaming: the upstream 400 wrapped in internal_endpoint_error, cut at 256 bytes', () => {
    const wrapped = `Upstream endpoint returned 400: b'${SAMBANOVA.slice(0, 256)}'.`;
    const err = translateGatewayFailure({ status: 400, body: { error: { code: 'internal_endpoint_error', message: wrapped, info: {} } }, model: MODEL });
    expect(err.code).toBe('context_too_long');
    expect(err.retryable).toBe(false);
    expect(err.details).toMatchObject({ model: MODEL, contextTokens: 32768, requestTokens: 39732 });
    const words = userMessageFor(err);
    expect(words).toContain(`too long for \`${MODEL}\` (it takes at most 32,768 tokens; this needed 39,732)`);
    expect(words).toMatch(/new thread/);
    expect(words).toMatch(/longer context/);
    expect(words).not.toMatch(/bug/);
  });

  it("streaming: SambaNova's body inside the gateway's in-band error chunk", () => {
    const content = `\n\n[ERROR] Error: Unexpected error calling stream API: Error: Could not send stream API call to https://metis.alcf.anl.gov/v1/chat/completions: ${SAMBANOVA}`;
    const err = translateInBandError(content, MODEL);
    expect(err.code).toBe('context_too_long');
    expect(err.retryable).toBe(false);
    expect(err.details.contextTokens).toBe(32768);
  });

  it("SambaStudio's flat body, and a 413 from the edge, are the same failure", () => {
    const flat = { error: 'Requested tokens exceed the maximum context length of the model', error_code: null, error_type: 'invalid_request_error' };
    expect(translateGatewayFailure({ status: 400, body: flat, model: MODEL }).code).toBe('context_too_long');
    expect(translateGatewayFailure({ status: 413, body: '<html><title>413 Request Entity Too Large</title></html>', model: MODEL }).code).toBe('context_too_long');
  });

  it('other 400s and 422s stay what they were', () => {
    const extra = { detail: [{ type: 'extra_forbidden', loc: ['body', 'payload', 'top_k'], msg: 'Extra inputs are not permitted' }] };
    expect(translateGatewayFailure({ status: 422, body: extra, model: MODEL }).code).toBe('bad_request');
    const framework = { error: { code: 'unsupported_framework', message: 'framework vllm not available on cluster metis.', info: {} } };
    expect(translateGatewayFailure({ status: 400, body: framework, model: MODEL }).code).toBe('bad_request');
    expect(translateInBandError('\n\n[ERROR] Error: Unexpected error calling stream API: {"error":"Model is overloaded"}', MODEL).code).toBe('model_error');
  });
});
