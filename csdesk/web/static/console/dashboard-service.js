// The dashboard's service-quality block (satisfaction, complaint rate, complaints handled,
// today and over the last 7 days):
// rewritten from each figure set dashboard.js reads (the "dashboard:data" event).

const percent = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);

function fill(id, vars) {
  const node = document.getElementById(id);
  if (!node) return;
  let text = node.dataset.template || "";
  for (const [name, value] of Object.entries(vars)) text = text.replace(`{${name}}`, String(value));
  if (node.textContent !== text) node.textContent = text;
}

function setText(id, text) {
  const node = document.getElementById(id);
  if (node && node.textContent !== text) node.textContent = text;
}

document.addEventListener("dashboard:data", (event) => {
  const { satisfaction: s, complaints: c } = event.detail;
  if (!s || !c) return;
  setText("db-satisfaction", percent(s.rate));
  fill("db-ratings", { n: s.ratings, mean: s.mean_score ?? "—", low: s.dissatisfied });
  setText("db-complaint-rate", percent(c.rate));
  fill("db-complaints", { n: c.complaints, total: c.conversations });
  setText("db-complaints-handled", percent(c.handling_rate));
  fill("db-complaints-closed", { n: c.handled });
  const week = { s: s.last_7_days, c: c.last_7_days };
  if (week.s) fill("db-satisfaction-7d", { rate: percent(week.s.rate), n: week.s.ratings });
  if (week.c) {
    fill("db-complaint-rate-7d", { rate: percent(week.c.rate) });
    fill("db-complaints-handled-7d", { rate: percent(week.c.handling_rate) });
  }
});
