import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../src/conversation/parse-request.ts';
import { MetisError } from '../../src/errors.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof MetisError ? err.code : 'other';
  }
  return 'none';
};

describe('parseRequest', () => {
  it('strips the bot mention and reads the question', () => {
    expect(parseRequest('<@U0BOT> what is RDMA?', 'U0BOT')).toEqual({ prompt: 'what is RDMA?' });
  });

  it('reads -m, --model and --model=', () => {
    expect(parseRequest('<@U0BOT> -m 70b hi', 'U0BOT')).toEqual({ prompt: 'hi', model: '70b' });
    expect(parseRequest('<@U0BOT> --model DeepSeek-R1 hi there', 'U0BOT')).toEqual({ prompt: 'hi there', model: 'DeepSeek-R1' });
    expect(parseRequest('--model=qwen  code please', 'U0BOT')).toEqual({ prompt: 'code please', model: 'qwen' });
  });

  it('lets a question start with a dash that is not an option', () => {
    expect(parseRequest('<@U0BOT> -5 °C in F?', 'U0BOT')).toEqual({ prompt: '-5 °C in F?' });
  });

  it('rejects empty mentions, unknown options and -m without a name', () => {
    expect(code(() => parseRequest('<@U0BOT>', 'U0BOT'))).toBe('empty_prompt');
    expect(code(() => parseRequest('<@U0BOT>   \n ', 'U0BOT'))).toBe('empty_prompt');
    expect(code(() => parseRequest('<@U0BOT> -m 70b', 'U0BOT'))).toBe('empty_prompt');
    expect(code(() => parseRequest('<@U0BOT> --temperature 2 hi', 'U0BOT'))).toBe('unknown_option');
    expect(code(() => parseRequest('<@U0BOT> -m', 'U0BOT'))).toBe('unknown_model');
  });
});
