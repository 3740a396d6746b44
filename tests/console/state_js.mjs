// The shipped console's own state logic (frontend/console/state.js), for the Python tests.
// stdin one request, stdout its answer:
//   {"op": "replay", "before": snapshot, "events": [...], "after": snapshot}
//     -> {"replayed": view of before + events, "fresh": view of after}
//   {"op": "order", "tickets": [...]} -> the tickets' ids in the console's queue order
import { readFileSync } from "node:fs";

import {
  applyEvent,
  applySnapshot,
  compareQueue,
  openAlerts,
  queue,
} from "../../frontend/console/state.js";

function view(state) {
  const open = queue(state);
  const meId = state.me?.id;
  return {
    me: state.me,
    last_event_id: state.lastEventId,
    queue: open,
    queue_total: state.totals.queue,
    my_cases: open.filter((t) => meId !== undefined && t.assignee_id === meId),
    my_total: state.totals.mine,
    staff: Object.values(state.staff).sort((a, b) => a.id - b.id),
    // Every alert the state holds, in the alert list's order; which of them a doctor's page
    // leaves out (the cover's) is the page's choice, tested under node --test.
    alerts: openAlerts({ ...state, me: null }),
    alerts_total: state.totals.alerts,
  };
}

function replay({ before, events, after }) {
  let state = applySnapshot(before);
  for (const event of events) state = applyEvent(state, event);
  return { replayed: view(state), fresh: view(applySnapshot(after)) };
}

const request = JSON.parse(readFileSync(0, "utf8"));
const answer =
  request.op === "order"
    ? [...request.tickets].sort(compareQueue).map((t) => t.id)
    : replay(request);
process.stdout.write(JSON.stringify(answer));
