/**
 * Redis's clock, for the Lua scripts that time things fleet-wide (budgets,
 * running slots, the edit pacer): processes on several machines then agree
 * on "now" whatever their own clocks say.
 */

/** Lua lines that set the local `now` to Redis's time in milliseconds; put at the top of a script. */
export const REDIS_NOW_MS = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
