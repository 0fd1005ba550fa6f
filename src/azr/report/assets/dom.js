// The page's one way to build elements, shared by app.js and review.js. Text goes in only as
// textContent (the "text" prop or a string child), never as markup: model-written text is untrusted.
(function () {
  "use strict";
  function el(tag, props, children) {
    const node = document.createElement(tag);
    Object.entries(props || {}).forEach(([key, value]) => {
      if (key === "text") node.textContent = value;
      else if (key === "cls") node.className = value;
      else node.setAttribute(key, value);
    });
    (children || []).forEach((child) => node.appendChild(typeof child === "string" ? document.createTextNode(child) : child));
    return node;
  }
  const pre = (text) => el("pre", { text: text == null ? "" : String(text) });
  window.azrDom = Object.freeze({ el, pre });
})();
