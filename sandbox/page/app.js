// The sandbox's Slack page. Everything shown comes from the fake Slack (pushed as one state object over
// SSE); everything done goes to the sandbox, which sends it to the bot as Slack would. Every piece of text
// is HTML-escaped before any formatting is applied, so nothing a model writes can become markup.


const ui = {
  channel: undefined,
  thread: undefined,
  state: undefined,
};

const $ = (id) => document.getElementById(id);

const EMOJI = {
  large_green_circle: '🟢',
  large_yellow_circle: '🟡',
  white_circle: '⚪',
  hourglass_flowing_sand: '⏳',
  hourglass: '⌛',
  grey_question: '❔',
  warning: '⚠️',
  construction: '🚧',
  pushpin: '📌',
  no_entry_sign: '🚫',
  double_vertical_bar: '⏸️',
  x: '❌',
  key: '🔑',
  white_check_mark: '✅',
};

function escapeHtml(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Slack's own escapes in message text, undone before our escaping. */
function unslack(s) {
  return String(s).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function userName(id) {
  return (ui.state && ui.state.users[id]) || id;
}

/**
 * Inline formatting over already-escaped text. `flavor` is 'markdown' (**bold**, *italic*) or 'mrkdwn'
 * (Slack's: *bold*, _italic_, <url|text>).
 */
function inline(escaped, flavor) {
  const parts = escaped.split(/(`[^`\n]+`)/g);
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return `<code>${part.slice(1, -1)}</code>`;
      let s = part;
      // Mentions and Slack links arrive escaped as &lt;…&gt;.
      s = s.replace(/&lt;@([UW][A-Z0-9]+)&gt;/g, (_, id) => `<b>@${escapeHtml(userName(id))}</b>`);
      s = s.replace(/&lt;(https?:\/\/[^|\s&]+)(?:\|([^&]+))?&gt;/g, (_, url, text) => link(url, text || url));
      s = s.replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+)\)/g, (_, text, url) => link(url, text));
      if (flavor === 'markdown') {
        s = s.replace(/\*\*([^*]+)\*\*/g, '<b>$1</b>').replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, '$1<i>$2</i>');
      } else {
        s = s.replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, '$1<b>$2</b>');
      }
      s = s.replace(/(^|[\s(>])_([^_\s][^_]*)_/g, '$1<i>$2</i>').replace(/(^|\s)~([^~\s][^~]*)~/g, '$1<s>$2</s>');
      s = s.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
      return s;
    })
    .join('');
}

/** A link whose address was already escaped; it opens elsewhere and tells the browser nothing. */
function link(url, text) {
  return `<a href="${url}" target="_blank" rel="noopener noreferrer nofollow">${text}</a>`;
}

/** Block-level formatting: code fences (an unclosed one runs to the end, as while streaming), quotes, lists. */
function renderText(raw, flavor) {
  const out = [];
  const fence = /```[^\n`]*\n?([\s\S]*?)(```|$)/g;
  let at = 0;
  for (let m = fence.exec(raw); m; m = fence.exec(raw)) {
    out.push(renderLines(raw.slice(at, m.index), flavor));
    out.push(`<pre><code>${escapeHtml(m[1])}</code></pre>`);
    at = fence.lastIndex;
    if (m[0] === '') fence.lastIndex++;
    if (at >= raw.length) break;
  }
  out.push(renderLines(raw.slice(at), flavor));
  return out.join('');
}

function renderLines(text, flavor) {
  const html = [];
  let list = [];
  const flush = () => {
    if (list.length) html.push(`<ul>${list.map((li) => `<li>${li}</li>`).join('')}</ul>`);
    list = [];
  };
  for (const line of text.split('\n')) {
    const e = escapeHtml(line);
    const item = /^\s*(?:[-*•])\s+(.*)$/.exec(e);
    if (item) {
      list.push(inline(item[1], flavor));
      continue;
    }
    flush();
    const quote = /^&gt;\s?(.*)$/.exec(e);
    const heading = /^#{1,6}\s+(.*)$/.exec(e);
    if (quote) html.push(`<blockquote>${inline(quote[1], flavor)}</blockquote>`);
    else if (heading) html.push(`<p><b>${inline(heading[1], flavor)}</b></p>`);
    else if (e.trim()) html.push(`<p>${inline(e, flavor)}</p>`);
  }
  flush();
  return html.join('');
}

function button(el, where) {
  const style = el.style === 'danger' ? ' danger' : '';
  const text = el.text && el.text.text ? el.text.text : 'Button';
  return (
    `<button type="button" class="action${style}" data-action-id="${escapeHtml(el.action_id || '')}" ` +
    `data-value="${escapeHtml(el.value || '')}" data-channel="${escapeHtml(where.channel)}" ` +
    `data-message-ts="${escapeHtml(where.ts || '')}">${escapeHtml(text)}</button>`
  );
}

function renderBlocks(blocks, where) {
  return blocks
    .map((b) => {
      if (b.type === 'markdown') return renderText(b.text || '', 'markdown');
      if (b.type === 'section') {
        const text = b.text ? renderText(b.text.type === 'mrkdwn' ? b.text.text : unslackPlain(b.text.text), 'mrkdwn') : '';
        const accessory = b.accessory && b.accessory.type === 'button' ? button(b.accessory, where) : '';
        return `<div class="section"><div>${text}</div>${accessory}</div>`;
      }
      if (b.type === 'context') {
        const els = (b.elements || []).map((e) => (e.type === 'mrkdwn' ? renderText(e.text, 'mrkdwn') : escapeHtml(e.text || ''))).join(' ');
        return `<div class="context">${els}</div>`;
      }
      if (b.type === 'actions') return `<div class="actions">${(b.elements || []).filter((e) => e.type === 'button').map((e) => button(e, where)).join(' ')}</div>`;
      if (b.type === 'header') return `<p><b>${escapeHtml(b.text ? b.text.text : '')}</b></p>`;
      if (b.type === 'divider') return '<hr>';
      return '';
    })
    .join('');
}

/** plain_text is shown as typed: escape Slack's markup characters so renderText shows them literally. */
function unslackPlain(s) {
  return String(s || '').replace(/[*_~`]/g, (c) => `\u200b${c}`);
}

function bodyOf(m) {
  const where = { channel: m.channel, ts: m.ts };
  if (Array.isArray(m.blocks) && m.blocks.length) return renderBlocks(m.blocks, where);
  if (m.bot && m.markdown) return renderText(m.text, 'markdown');
  return renderText(unslack(m.text), 'mrkdwn');
}

function messageHtml(m, opts) {
  const who = m.bot ? 'metis' : userName(m.user);
  const replies = opts.replies ? `<button type="button" class="replies" data-thread="${escapeHtml(m.ts)}">${opts.replies} ${opts.replies === 1 ? 'reply' : 'replies'}</button>` : '';
  const reply = opts.inChannel && !opts.replies ? `<button type="button" class="reply-link" data-thread="${escapeHtml(m.ts)}">Reply in thread</button>` : '';
  return (
    `<div class="msg${m.bot ? ' bot' : ''}" data-ts="${escapeHtml(m.ts)}">` +
    `<span class="who">${escapeHtml(who)}</span>${m.bot ? '<span class="app">APP</span>' : ''}${reply}` +
    `<div class="body">${bodyOf(m)}</div>${replies}</div>`
  );
}

function localHtml(item) {
  const where = { channel: item.channel, ts: '' };
  const body = Array.isArray(item.blocks) && item.blocks.length ? renderBlocks(item.blocks, where) : renderText(unslack(item.text), 'mrkdwn');
  const note = item.kind === 'ephemeral' ? '<div class="only-you">Only visible to you</div>' : '';
  return `<div class="msg bot ${item.kind}" data-local="${item.id}"><span class="who">metis</span><span class="app">APP</span><div class="body">${body}</div>${note}</div>`;
}

function keepScroll(el, html) {
  const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  el.innerHTML = html;
  if (atEnd) el.scrollTop = el.scrollHeight;
}

function render() {
  const s = ui.state;
  if (!s) return;
  const mode = $('mode');
  mode.textContent =
    s.mode === 'real'
      ? 'Slack: simulated here · Metis: the REAL inference gateway'
      : 'Slack: simulated here · Metis: simulated answers (no model runs)';
  mode.className = s.mode === 'real' ? 'real' : '';
  if (!ui.channel) ui.channel = s.channels[0].id;

  const side = (kind) =>
    s.channels
      .filter((c) => (kind === 'dm' ? c.kind === 'dm' : c.kind !== 'dm'))
      .map((c) => `<li><button type="button" data-channel="${escapeHtml(c.id)}" class="${c.id === ui.channel ? 'active' : ''}">${c.kind === 'dm' ? '' : '# '}${escapeHtml(c.name)}</button></li>`)
      .join('');
  $('channels').innerHTML = side('channel');
  $('dms').innerHTML = side('dm');
  const channel = s.channels.find((c) => c.id === ui.channel);
  $('channel-name').textContent = channel.kind === 'dm' ? channel.name : `# ${channel.name}`;
  $('message-input').placeholder = channel.kind === 'dm' ? `Message ${channel.name}` : `Message #${channel.name} (mention @metis to ask it)`;

  const inChannel = s.messages.filter((m) => m.channel === ui.channel);
  const roots = inChannel.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
  const replyCount = (ts) => inChannel.filter((m) => m.thread_ts === ts && m.ts !== ts).length;
  const rows = roots.map((m) => ({ after: m.index, html: messageHtml(m, { inChannel: true, replies: replyCount(m.ts) }) }));
  for (const item of s.local.filter((l) => l.channel === ui.channel)) rows.push({ after: item.after - 0.5, html: localHtml(item) });
  rows.sort((a, b) => a.after - b.after);
  keepScroll($('messages'), rows.map((r) => r.html).join(''));

  const threadPane = $('thread');
  const root = ui.thread && inChannel.find((m) => m.ts === ui.thread);
  threadPane.hidden = !root;
  if (root) {
    const replies = inChannel.filter((m) => m.thread_ts === root.ts && m.ts !== root.ts);
    keepScroll($('thread-messages'), `<div class="thread-root">${messageHtml(root, {})}</div>${replies.map((m) => messageHtml(m, {})).join('')}`);
  }
}

async function send(path, body, errorEl) {
  errorEl.hidden = true;
  try {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const r = await res.json();
    if (!r.ok) throw new Error(r.error || `HTTP ${res.status}`);
    return r;
  } catch (err) {
    errorEl.textContent = err.message;
    errorEl.hidden = false;
    return undefined;
  }
}

function composer(input, errorEl, threadTs) {
  input.addEventListener('keydown', async (e) => {
    if (e.key !== 'Enter' || e.shiftKey) return;
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    updateHint();
    const thread = threadTs();
    const r = await send('/api/messages', { channel: ui.channel, text, thread_ts: thread }, errorEl);
    // A question to the bot opens its thread, where the answer will stream in.
    if (r && r.ts && !thread && (isDm() || /@metis\b/i.test(text))) {
      ui.thread = r.ts;
      render();
    }
  });
}

function isDm() {
  const c = ui.state && ui.state.channels.find((x) => x.id === ui.channel);
  return c !== undefined && c.kind === 'dm';
}

function updateHint() {
  const hint = $('command-hint');
  const typed = $('message-input').value;
  const commands = ui.state ? ui.state.commands : [];
  const matching = typed.startsWith('/') ? commands.filter((c) => c.startsWith(typed.split(/\s/)[0])) : [];
  hint.hidden = matching.length === 0;
  hint.textContent = matching.length ? `Commands: ${matching.join('  ')}` : '';
}

document.addEventListener('click', (e) => {
  const target = e.target.closest('button');
  if (!target) return;
  if (target.dataset.actionId) {
    send(
      '/api/actions',
      { channel: target.dataset.channel, actionId: target.dataset.actionId, value: target.dataset.value, messageTs: target.dataset.messageTs },
      ui.thread ? $('thread-error') : $('send-error'),
    );
  } else if (target.dataset.thread) {
    ui.thread = target.dataset.thread;
    render();
  } else if (target.dataset.channel && target.closest('#sidebar')) {
    ui.channel = target.dataset.channel;
    ui.thread = undefined;
    render();
  } else if (target.id === 'close-thread') {
    ui.thread = undefined;
    render();
  }
});

composer($('message-input'), $('send-error'), () => undefined);
composer($('thread-input'), $('thread-error'), () => ui.thread);
$('message-input').addEventListener('input', updateHint);
for (const form of document.querySelectorAll('form')) form.addEventListener('submit', (e) => e.preventDefault());

const events = new EventSource('/api/events');
events.onmessage = (e) => {
  ui.state = JSON.parse(e.data);
  render();
};
events.onerror = () => {
  $('mode').textContent = 'disconnected from the sandbox (is it still running?)';
};
