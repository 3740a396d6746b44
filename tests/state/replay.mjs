// The shipped console's own state logic (frontend/console/state.js) on one watcher's story:
// stdin {"before": snapshot, "events": [...], "after": snapshot}; stdout the view of
// "before + events" and of "after", which the state tests require to be equal.
import { readFileSync } from "node:fs";

import { applyEvent, applySnapshot, openAlerts, queue } from "../../frontend/console/state.js";

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
    alerts: openAlerts(state),
    alerts_total: state.totals.alerts,
  };
}

const story = JSON.parse(readFileSync(0, "utf8"));
let state = applySnapshot(story.before);
for (const event of story.events) state = applyEvent(state, event);
process.stdout.write(JSON.stringify({ replayed: view(state), fresh: view(applySnapshot(story.after)) }));
