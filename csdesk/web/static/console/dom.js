// DOM helpers. Data only ever reaches the page as text nodes or attribute values:
// nothing here (or anywhere in the console) parses data as HTML markup.

/** Element by id. */
export const byId = (id) => document.getElementById(id);

/**
 * Build an element. props: "class", "text" (textContent), "dataset" (object),
 * "on<event>" (listener function), anything else becomes an attribute (true → "").
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children, skipping null/undefined/false entries. */
export function fillNode(node, ...children) {
  node.replaceChildren(
    ...children
      .flat()
      .filter((child) => child !== null && child !== undefined && child !== false),
  );
}

/** Show or hide with the hidden attribute. */
export function setHidden(node, hidden) {
  node.hidden = Boolean(hidden);
}
