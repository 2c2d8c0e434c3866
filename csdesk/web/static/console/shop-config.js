// The shop's own rules: the overrides document as JSON text. The server checks it exactly
// as routing reads it and answers a mistake with the key that is wrong; shown as it comes.

import { api, ApiError } from "./api.js";
import { byId, setHidden } from "./dom.js";
import { t } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);
const text = byId("sc-text");
const reason = byId("sc-reason");
const error = byId("sc-error");
const result = byId("sc-result");

function show(config) {
  text.value = JSON.stringify(config, null, 2);
}

function fail(message) {
  error.textContent = message;
  text.setAttribute("aria-invalid", "true");
  setHidden(result, true);
}

async function save() {
  error.textContent = "";
  text.removeAttribute("aria-invalid");
  let config;
  try {
    config = JSON.parse(text.value || "{}");
  } catch (problem) {
    fail(t("Not valid JSON: {problem}", { problem: problem.message }));
    return;
  }
  try {
    const saved = await api(boot.api, { method: "PUT", body: { config, reason: reason.value } });
    show(saved.config);
    reason.value = "";
    result.textContent = t("Saved. Routing uses the new rules within 2 seconds.");
    setHidden(result, false);
    result.focus();
  } catch (problem) {
    fail(problem instanceof ApiError ? problem.message : String(problem));
  }
}

show(boot.config);
text.readOnly = !boot.can_edit;
setHidden(byId("sc-edit"), !boot.can_edit);
setHidden(byId("sc-readonly"), boot.can_edit);
byId("sc-save").addEventListener("click", save);
text.addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === "s" && boot.can_edit) {
    event.preventDefault();
    save();
  }
});
