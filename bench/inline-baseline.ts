/**
 * The baseline the benchmark compares against: a single-process Slack LLM
 * bot as such bots are usually written — a Bolt app (HTTP mode) whose
 * app_mention listener calls the model itself and posts the answer before
 * Slack's request is answered. Not part of the product.
 */
import { App } from '@slack/bolt';
import OpenAI from 'openai';

const env = process.env;
const openai = new OpenAI({ apiKey: 'valid-token', baseURL: `${env.INFERENCE_GATEWAY_URL}/metis/api/v1`, maxRetries: 0 });
const app = new App({
  token: env.SLACK_BOT_TOKEN,
  signingSecret: env.SLACK_SIGNING_SECRET as string,
  processBeforeResponse: true,
  tokenVerificationEnabled: false,
  botId: 'B0BOT',
  botUserId: 'U0BOT',
  clientOptions: { slackApiUrl: env.SLACK_API_URL, retryConfig: { retries: 0 } },
});
app.event('app_mention', async ({ event, client }) => {
  const stream = await openai.chat.completions.create({
    model: 'Meta-Llama-3.1-8B-Instruct',
    messages: [{ role: 'user', content: event.text }],
    stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  await client.chat.postMessage({ channel: event.channel, thread_ts: event.ts, text: text || '…' });
});
await app.start(Number(env.PORT));
console.log(JSON.stringify({ msg: 'baseline is running' }));
