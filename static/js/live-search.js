// Live search on the systems list.
// While the search box is typed in (debounced) or a filter changes, fetch the same page the
// form would load and swap in its server-rendered results, count and export links; the
// address bar follows (history.replaceState) so the page can be bookmarked or reloaded.
// Without JavaScript the form's "Apply filters" button loads the page as before.
(function () {
  "use strict";
  const form = document.querySelector("form[data-live-search]");
  const results = document.querySelector("[data-live-results]");
  if (!form || !results || !window.fetch || !window.DOMParser || !window.history.replaceState) {
    return;
  }
  const delay = Number(form.dataset.delay || 300);
  let timer = null;
  let pending = null;
  let shown = location.search;

  // The form's values, leaving out empty ones and lists still on their first choice (the
  // server's default), so the address reads like the links the page itself builds.
  function address() {
    const params = new URLSearchParams();
    for (const field of form.elements) {
      const unchosen = field.tagName === "SELECT" && !field.multiple && field.selectedIndex <= 0;
      const unchecked = (field.type === "checkbox" || field.type === "radio") && !field.checked;
      if (field.name && !field.disabled && field.value !== "" && !unchosen && !unchecked) {
        params.append(field.name, field.value);
      }
    }
    const query = params.toString();
    return form.action.split("?")[0] + (query ? "?" + query : "");
  }

  function swap(html) {
    const fetched = new DOMParser().parseFromString(html, "text/html");
    for (const target of document.querySelectorAll("[data-live]")) {
      const source = fetched.querySelector('[data-live="' + target.dataset.live + '"]');
      if (source) {
        target.innerHTML = source.innerHTML;
      }
    }
  }

  function refresh() {
    const url = address();
    const search = url.includes("?") ? url.slice(url.indexOf("?")) : "";
    if (search === shown) {
      return;
    }
    if (pending) {
      pending.abort();
    }
    pending = new AbortController();
    results.setAttribute("aria-busy", "true");
    fetch(url, {signal: pending.signal, credentials: "same-origin", headers: {Accept: "text/html"}})
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        swap(html);
        shown = search;
        history.replaceState(history.state, "", url);
        results.removeAttribute("aria-busy");
      })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          // A failed request leaves the results as they were; the button still works.
          results.removeAttribute("aria-busy");
        }
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, delay);
  }

  form.addEventListener("input", function (event) {
    if (event.target.type === "search" || event.target.type === "text") {
      later();
    }
  });
  form.addEventListener("change", function (event) {
    if (event.target.type !== "search" && event.target.type !== "text") {
      later();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    shown = null;
    refresh();
  });
}());
