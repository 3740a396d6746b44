// Reconnect delays: exponential with "full jitter" so a thousand consoles that lost the same
// server do not all come back in the same millisecond.

/** Delay in ms before reconnect attempt `attempt` (0-based); `random` in [0, 1). */
export function backoffDelay(attempt, { base = 500, cap = 15_000, random = Math.random } = {}) {
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
