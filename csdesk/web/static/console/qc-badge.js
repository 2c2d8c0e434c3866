// The new-findings badge beside "QC results" in the top bar (agents): how many findings
// against me I have not opened yet.

const link = document.getElementById("qc-results-link");
if (link) {
  fetch("/api/v1/qc/findings/unseen", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => {
      const badge = document.getElementById("qc-results-badge");
      if (badge && data && data.unseen > 0) {
        badge.textContent = String(data.unseen);
        badge.hidden = false;
      }
    })
    .catch(() => {});
}
