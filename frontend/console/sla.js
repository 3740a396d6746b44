// The SLA countdown: time left until `sla_due_at`, and how worried to be about it.
import { KTAS } from "../shared/domain.js";

/**
 * {state, remainingMs, answered} for a ticket at `nowMs`. state is "stopped" (a doctor answered
 * or the case is no longer open), "none" (no deadline), "ok", "warning" (80% of the target used,
 * as the server's sla.warning) or "breached". `answered` is true only when a staff reply reached
 * the traveller (`first_response_at`): a case closed without one is stopped but never answered.
 */
export function slaStatus(ticket, nowMs, open = true) {
  const answered = Boolean(ticket.first_response_at);
  if (!open || answered) return { state: "stopped", remainingMs: null, answered };
  if (!ticket.sla_due_at) return { state: "none", remainingMs: null, answered };
  const remainingMs = Date.parse(ticket.sla_due_at) - nowMs;
  if (remainingMs <= 0) return { state: "breached", remainingMs, answered };
  const level = ticket.acuity ?? ticket.suspected_acuity;
  const targetMs = (KTAS[level]?.target ?? 0) * 60_000;
  const warnAt = targetMs > 0 ? targetMs * 0.2 : 60_000;
  return { state: remainingMs <= warnAt ? "warning" : "ok", remainingMs, answered };
}

/** "12:05", "1:02:03", or "−3:10" once overdue. */
export function formatCountdown(ms) {
  const sign = ms < 0 ? "−" : "";
  let seconds = Math.floor(Math.abs(ms) / 1000);
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  const pad = (n) => String(n).padStart(2, "0");
  return hours > 0
    ? `${sign}${hours}:${pad(minutes)}:${pad(seconds)}`
    : `${sign}${minutes}:${pad(seconds)}`;
}

/** "3 min", "2 h 5 min": how long a case has waited. */
export function formatWaited(ms, locale = "ko") {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (locale === "en") return h ? `${h} h ${m} min` : `${m} min`;
  return h ? `${h}시간 ${m}분` : `${m}분`;
}
