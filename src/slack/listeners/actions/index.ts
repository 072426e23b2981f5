import type { App, BlockAction, BlockButtonAction, ButtonAction, StaticSelectAction } from '@slack/bolt';
import { CANCEL_WAIT_ACTION, FEEDBACK_ACTION, REGENERATE_ACTION, STOP_ANSWER_ACTION, SWITCH_MODEL_ACTION } from '../../../reply/message-builders.ts';
import { USE_MODEL_ACTION } from '../../views/models.ts';
import type { ListenerDeps } from '../types.ts';
import { cancelWaitAction } from './cancel-wait.ts';
import { stopAnswerAction } from './stop-answer.ts';
import { feedbackAction } from './feedback.ts';
import { rerunAction } from './rerun.ts';
import { useModelAction } from './use-model.ts';

export function registerActionListeners(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>(USE_MODEL_ACTION, useModelAction(deps));
  app.action<BlockButtonAction>(CANCEL_WAIT_ACTION, cancelWaitAction(deps));
  app.action<BlockButtonAction>(STOP_ANSWER_ACTION, stopAnswerAction(deps));
  // Slack's feedback_buttons arrive as block_actions with a value, as a button's do.
  app.action<BlockButtonAction>(FEEDBACK_ACTION, feedbackAction(deps));
  app.action<BlockAction<ButtonAction | StaticSelectAction>>(REGENERATE_ACTION, rerunAction(deps));
  app.action<BlockAction<ButtonAction | StaticSelectAction>>(SWITCH_MODEL_ACTION, rerunAction(deps));
}
