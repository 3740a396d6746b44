// The case's history (GET /api/v1/tickets/{id}/timeline) in plain words: who did what.
// No DOM: `t` translates, `nameOf(id)` names a colleague. Tested with `node --test`.
import { recordField } from "./record.js";

/** The words for one timeline item: {who, what}. */
export function describeItem(item, t, nameOf = (id) => `#${id}`) {
  const d = item.data || {};
  const actor = item.actor ? `${item.actor.name} (${t(`role.${item.actor.role}`)})` : null;
  const system = t("tl.system");
  const word = (prefix, code) => {
    const label = t(`${prefix}${code}`);
    return label === `${prefix}${code}` ? String(code) : label;
  };
  switch (item.name) {
    case "ticket.created":
      return { who: t("tl.traveller"), what: t("tl.created", { source: word("source.", d.ticket?.source) }) };
    case "message.created": {
      const m = d.message || {};
      if (m.direction === "inbound") {
        return { who: t("tl.traveller"), what: t("tl.wrote", { text: firstLine(m.text) }) };
      }
      const key = m.direction === "internal" ? "tl.noted" : "tl.replied";
      return { who: actor ?? system, what: t(key, { text: firstLine(m.text) }) };
    }
    case "message.delivery_changed":
      return { who: system, what: t("tl.delivery", { delivery: word("case.delivery.", d.delivery) }) };
    case "ticket.red_flagged":
      return {
        who: system,
        what: t("tl.red_flagged", { flags: (d.red_flags || []).map((f) => word("flag.", f)).join(", ") }),
      };
    case "ticket.triaged":
      return {
        who: actor ?? system,
        what: t("tl.triaged", {
          level: d.acuity ? t(`ktas.${d.acuity}`) : t("ktas.untriaged"),
          category: d.category ? word("category.", d.category) : t("case.none"),
        }),
      };
    case "ticket.assigned": {
      const to = d.assignee_id ?? d.ticket?.assignee_id;
      const who = actor ?? system;
      if (to === null || to === undefined || d.reason === "release") return { who, what: t("tl.released") };
      const name = nameOf(to);
      switch (d.reason) {
        case "claim":
          return { who, what: t("tl.claimed") };
        case "auto":
          return { who: system, what: t("tl.auto_assigned", { name }) };
        case "timeout":
          return { who: system, what: t("tl.timeout_assigned", { name }) };
        case "transfer":
        case "handover":
          return { who, what: t("tl.transferred", { name }) };
        default:
          return { who, what: t(d.previous_assignee_id ? "tl.transferred" : "tl.assigned", { name }) };
      }
    }
    case "ticket.status_changed": {
      const what = t("tl.status", { from: word("status.", d.from), to: word("status.", d.to) });
      const why = d.reason && d.reason !== "merged" ? ` — ${word("reason.", d.reason)}` : "";
      return { who: actor ?? system, what: what + why };
    }
    case "ticket.updated": {
      const fields = (d.fields || []).map((name) => {
        const field = recordField(name);
        return field ? t(field.label) : name;
      });
      return { who: actor ?? system, what: t("tl.updated", { fields: fields.join(", ") }) };
    }
    case "ticket.merged":
      return { who: actor ?? system, what: t("tl.merged") };
    case "sla.warning":
      return { who: system, what: t("tl.sla_warning") };
    case "sla.breached":
      return { who: system, what: t("tl.sla_breached") };
    case "assignment.timeout":
      return { who: system, what: t("tl.assignment_timeout") };
    default:
      return { who: actor ?? system, what: t("tl.other") };
  }
}

/** The first non-blank line of a message, cut to `max` characters with "…". */
export function firstLine(text, max = 80) {
  const line = String(text || "")
    .split(/\r?\n/)
    .map((s) => s.trim())
    .find(Boolean);
  if (!line) return "";
  const chars = [...line];
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : line;
}
