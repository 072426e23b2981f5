/**
 * Lab networks often reach the internet only through a proxy. Every outbound
 * connection the bot makes (Slack's Web API and Socket Mode websocket, Globus,
 * the gateway) goes through an undici dispatcher that follows the usual
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY variables (lower case too); with none
 * set it connects directly, as before.
 */
import { type Agent, type Dispatcher, EnvHttpProxyAgent, setGlobalDispatcher } from 'undici';

/** A dispatcher that honours the proxy variables; `options` tune its connection pools. */
export function proxyAwareDispatcher(options: Agent.Options = {}): Dispatcher {
  return new EnvHttpProxyAgent(options);
}

/**
 * Routes the global fetch (used by openid-client and Bolt's own Slack client)
 * through the proxy variables. Called once, at the start of every command.
 */
export function useProxyFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  const configured = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((name) => env[name]);
  if (configured) setGlobalDispatcher(proxyAwareDispatcher());
  return configured;
}
