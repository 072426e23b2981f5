/** The "Ask Metis about this" modal within Block Kit's limits, and its submission read back defensively. */
import { describe, expect, it } from 'vitest';
import { askModal, readAskModal } from '../../src/slack/views/ask-modal.ts';
import { WORDS } from '../../src/words.ts';

const about = { channel: 'C1', messageTs: '1700000001.000001', threadTs: '1700000000.000001', actionTs: '1700000002.000001' };
type Block = { type: string; block_id?: string; element?: { options?: { text: { text: string }; value: string }[] }; elements?: { text: string }[] };

describe('the ask modal', () => {
  it('offers the Live models (at most 100, names cut to 75 characters), or says none is Live', () => {
    const names = [`${'x'.repeat(80)}`, ...Array.from({ length: 120 }, (_, i) => `model-${i}`)];
    const blocks = askModal(about, names).blocks as Block[];
    const options = blocks.find((b) => b.block_id === 'model')?.element?.options ?? [];
    expect(options).toHaveLength(100);
    expect(options[0]?.text.text).toHaveLength(75);
    expect(options[0]?.value).toBe(names[0]);
    const none = askModal(about, []).blocks as Block[];
    expect(none.some((b) => b.block_id === 'model')).toBe(false);
    expect(none.at(-1)?.elements?.[0]?.text).toBe(WORDS.ask_no_live_model());
  });

  it('reads back what it wrote, and nothing from metadata it did not write', () => {
    const view = askModal(about, ['m1']);
    const values = { question: { question: { value: '  why?  ' } }, model: { model: { selected_option: { value: 'm1' } } } };
    expect(readAskModal({ private_metadata: view.private_metadata as string, state: { values } })).toEqual({ about, question: 'why?', model: 'm1' });
    expect(readAskModal({ private_metadata: view.private_metadata as string, state: { values: { model: { model: { selected_option: null } } } } })).toEqual({ about, question: '' });
    for (const bad of ['', 'not json', '{"c":"C1","m":"1.2","t":"x","a":"1.3"}', '{"c":1,"m":"1.2","t":"1.2","a":"1.3"}'])
      expect(readAskModal({ private_metadata: bad })).toBeUndefined();
  });
});
