// Change my password (POST /api/v1/account/password); after a one-time password, success
// leads on to the console.

import { api } from "./api.js";
import { byId } from "./dom.js";
import { t } from "./i18n.js";

const boot = JSON.parse(byId("wb-boot").textContent);

byId("pw-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const errorBox = byId("pw-error");
  const fresh = byId("pw-new").value;
  if (fresh !== byId("pw-again").value) {
    errorBox.textContent = t("The two new passwords differ.");
    byId("pw-again").focus();
    return;
  }
  try {
    await api(`${boot.account_api}/password`, {
      method: "POST",
      body: { current_password: byId("pw-current").value, new_password: fresh },
    });
    window.location.assign(boot.home);
  } catch (error) {
    errorBox.textContent = error.message;
    const field = { current_password: "pw-current", new_password: "pw-new" }[error.field];
    if (field) byId(field).focus();
  }
});
