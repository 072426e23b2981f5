import { describe, expect, it } from 'vitest';
import { decideCancel } from '../../src/queue/cancellation.ts';

const request = { user: 'U0ASKER', channel: 'C0CHAN', messageTs: ['1700000001.000001', '1700000002.000002'] };

describe('decideCancel', () => {
  it('lets the asker or an administrator cancel from one of the request\'s own messages', () => {
    expect(decideCancel(request, { user: 'U0ASKER', channel: 'C0CHAN', messageTs: '1700000002.000002' }, [])).toBe('cancel');
    expect(decideCancel(request, { user: 'U0ADMIN', channel: 'C0CHAN', messageTs: '1700000001.000001' }, ['U0ADMIN'])).toBe('cancel');
    expect(decideCancel(request, { user: 'U0OTHER', channel: 'C0CHAN', messageTs: '1700000001.000001' }, ['U0ADMIN'])).toBe('not_allowed');
  });

  it('ignores a click that is not on the request\'s message in its channel, whoever makes it', () => {
    for (const click of [
      { user: 'U0ASKER', channel: 'C0CHAN', messageTs: '1700000009.000009' },
      { user: 'U0ASKER', channel: 'C0ELSE', messageTs: '1700000001.000001' },
      { user: 'U0ASKER', channel: 'C0CHAN' },
      { user: 'U0ASKER', messageTs: '1700000001.000001' },
      { user: 'U0ADMIN', channel: 'C0CHAN', messageTs: '1700000009.000009' },
    ])
      expect(decideCancel(request, click, ['U0ADMIN'])).toBe('not_this_message');
  });
});
