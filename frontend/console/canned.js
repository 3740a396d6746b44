// Canned replies staff insert and then adapt. They are data admins keep (/api/v1/replies); for
// the open case the server fills them in (its case number, its country's emergency number) and
// lists the traveller's language first. Fetched once per case, not on every redraw: each fetch
// for a case is a read of its data and goes to the access log.
import { h } from "../shared/dom.js";
import { t } from "../shared/i18n.js";

const NONE = { key: null, items: [], promise: null };
let loaded = NONE;

/** What the rendered replies depend on: the case, and where and who its traveller is. */
function caseKey(ticket) {
  return `${ticket.id}|${ticket.country || ""}|${ticket.locale || ""}`;
}

/** The replies filled in for `ticket` (a promise of the API's items), fetched once per case. */
export function loadReplies(api, ticket) {
  const key = caseKey(ticket);
  if (loaded.key !== key) {
    const entry = { key, items: [], promise: null };
    entry.promise = api.get("/api/v1/replies", { ticket_id: ticket.id }).then(
      (page) => {
        entry.items = page.items;
        return page.items;
      },
      (err) => {
        if (loaded === entry) loaded = NONE; // the next redraw tries again
        throw err;
      },
    );
    loaded = entry;
  }
  return loaded.promise;
}

/** `select` (the reply box's list), filled with the case's replies once they are here, one
 * group per language in the order the server gave; returns `select` at once. */
export function fillCanned(select, api, ticket) {
  loadReplies(api, ticket)
    .then((items) => {
      const groups = new Map();
      for (const reply of items) {
        if (!groups.has(reply.language)) groups.set(reply.language, []);
        groups.get(reply.language).push(reply);
      }
      for (const [language, replies] of groups) {
        select.append(
          h(
            "optgroup",
            { label: t(`case.canned_${language}`), lang: language },
            replies.map((r) => h("option", { value: String(r.id), title: r.text ?? r.body }, r.title)),
          ),
        );
      }
    })
    .catch(() => {
      select.disabled = true;
    });
  return select;
}

/** The picked reply: `{text, language}` (text filled in for the case), or null. */
export function cannedReply(id) {
  const reply = loaded.items.find((r) => String(r.id) === String(id));
  return reply ? { text: reply.text ?? reply.body, language: reply.language } : null;
}

/** The language to answer a case in: English when the traveller wrote in English, else Korean. */
export function replyLanguage(ticket) {
  return String(ticket?.locale || "").toLowerCase().startsWith("en") ? "en" : "ko";
}
