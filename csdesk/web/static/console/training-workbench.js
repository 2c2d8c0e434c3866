// 我的课程 in the workbench's left column: my open courses by due date (overdue marked) and
// the reminders not seen yet; reloaded when a course is given, due or passed (live events
// training.assigned, training.reminder, training.passed).

import { api } from "./api.js";
import { byId, fillNode, setHidden } from "./dom.js";
import { courseRow, noticeRow } from "./training-my.js";

export function createMyCourses() {
  const box = byId("my-courses");
  async function refresh() {
    const data = await api("/api/v1/training/my");
    const open = data.items.filter((a) => a.status === "assigned");
    fillNode(byId("my-courses-list"), open.map(courseRow));
    fillNode(byId("my-courses-notices"), data.notices.map(noticeRow));
    byId("my-courses-count").textContent = open.length ? `(${open.length})` : "";
    setHidden(box, open.length === 0 && data.notices.length === 0);
  }
  return { refresh };
}
