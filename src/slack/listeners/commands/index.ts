import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../types.ts';
import { allowedOnly } from './allowed-only.ts';
import { metisCommand } from './metis.ts';
import { metisModelsCommand } from './metis-models.ts';

export function registerCommandListeners(app: App, deps: ListenerDeps): void {
  // Both commands are for allowed people only.
  app.command('/metis-models', allowedOnly(deps), metisModelsCommand(deps));
  app.command('/metis', allowedOnly(deps), metisCommand(deps));
}
