// The learned triage model's two owner actions on the shop-rules page: retrain now and
// roll back. Training takes seconds; the button says so while it runs, then the page
// reloads to show the new version (or why it was kept out).

import { api, ApiError } from "./api.js";
import { byId } from "./dom.js";
import { t } from "./i18n.js";

const status = byId("tm-status");

function wire(id, busyText) {
  const button = byId(id);
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = busyText;
    try {
      await api(button.dataset.api, { method: "POST", body: {} });
      window.location.reload();
    } catch (error) {
      status.textContent = error instanceof ApiError ? error.message : String(error);
      button.disabled = false;
    }
  });
}

if (status) {
  wire("tm-retrain", t("Training… this takes a few seconds."));
  wire("tm-rollback", t("Rolling back…"));
}
