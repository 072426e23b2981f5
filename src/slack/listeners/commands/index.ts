import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../types.ts';
import { metisCommand } from './metis.ts';
import { metisModelsCommand } from './metis-models.ts';

export function registerCommandListeners(app: App, deps: ListenerDeps): void {
  // Both commands are for allowed people only (checked after the acknowledgement, before parsing).
  app.command('/metis-models', metisModelsCommand(deps));
  app.command('/metis', metisCommand(deps));
}
