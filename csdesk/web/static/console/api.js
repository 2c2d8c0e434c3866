// JSON API calls: same-origin session cookie, CSRF header on writes, errors that name the
// problem (the server's "error" text) as ApiError.

import { t } from "./i18n.js";

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content || "";

export class ApiError extends Error {
  constructor(status, message, field, data) {
    super(message);
    this.status = status;
    this.field = field || null;
    this.data = data || null; // the whole answer (e.g. a held reply's "hits")
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = csrfToken;
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, t("Network error: the server cannot be reached."));
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (response.status === 401) {
    window.location.assign(`/login?next=${encodeURIComponent(window.location.pathname)}`);
  }
  if (!response.ok) {
    const message = data?.error || t("Request failed ({status}).", { status: response.status });
    throw new ApiError(response.status, message, data?.field, data);
  }
  return data;
}

/** Upload a file as the raw request body (an image for the quick-reply library). */
export async function upload(path, file) {
  let response;
  try {
    response = await fetch(`${path}?name=${encodeURIComponent(file.name || "image")}`, {
      method: "POST",
      headers: {
        Accept: "application/json",
        "Content-Type": file.type || "application/octet-stream",
        "X-CSRF-Token": csrfToken,
      },
      credentials: "same-origin",
      body: file,
    });
  } catch {
    throw new ApiError(0, t("Network error: the server cannot be reached."));
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data?.error || t("Request failed ({status}).", { status: response.status });
    throw new ApiError(response.status, message, data?.field, data);
  }
  return data;
}
