// The live "similar systems" panel of the registration form.
// While the name, description, purpose or capabilities are typed, ask POST /api/v1/similar
// (debounced) and show the matches. Without JavaScript the panel's "Check for overlaps"
// button does the same through a normal form submission. On narrow screens, where the panel
// sits below the whole form, a sticky summary under the name field shows the same matches.
(function () {
  "use strict";
  const panel = document.getElementById("similar-panel");
  if (!panel || !window.fetch) {
    return;
  }
  const form = panel.closest("form");
  const lists = form.querySelectorAll("[data-similar-list]");
  const count = form.querySelector("[data-similar-count]");
  const state = panel.querySelector("[data-similar-state]");
  const template = document.getElementById("similar-item");
  const token = document.querySelector('meta[name="csrf-token"]');
  const watched = new Set(["name", "description", "purpose", "capability_ids", "scope_level"]);
  const delay = Number(panel.dataset.delay || 400);
  let timer = null;
  let latest = 0;

  function payload() {
    const data = new FormData(form);
    return {
      name: data.get("name") || "",
      description: data.get("description") || "",
      purpose: data.get("purpose") || "",
      capability_ids: data.getAll("capability_ids"),
      scope_level: data.get("scope_level") || null,
      owner_agency_id: data.get("owner_agency_id") || null,
      system_id: panel.dataset.systemId || null,
      k: 6,
    };
  }

  function render(matches, tooShort) {
    for (const list of lists) {
      const nodes = matches.map(item);
      if (list.closest("[data-similar-summary]")) {
        // The summary sits above the save button: a submit button in it would take the Enter key.
        nodes.forEach((node) => node.querySelector("[data-field=reuse]").remove());
      }
      list.replaceChildren(...nodes);
    }
    state.textContent = tooShort ? state.dataset.short : matches.length ? "" : state.dataset.none;
    panel.dataset.count = String(matches.length);
    if (count) {
      count.textContent = tooShort ? "–" : String(matches.length);
      count.classList.toggle("text-bg-warning", matches.length > 0);
      count.classList.toggle("text-bg-light", matches.length === 0);
      count.classList.toggle("border", matches.length === 0);
    }
  }

  function item(match) {
    const node = template.content.firstElementChild.cloneNode(true);
    const link = node.querySelector("[data-field=name]");
    link.textContent = match.name;
    link.href = match.url;
    node.querySelector("[data-field=code]").textContent = match.code;
    node.querySelector("[data-field=owner]").textContent = match.owner;
    node.querySelector("[data-field=score]").textContent = Math.round(match.score * 100) + "%";
    const reasons = node.querySelector("[data-field=reasons]");
    for (const reason of match.reasons) {
      const li = document.createElement("li");
      li.textContent = reason;
      reasons.appendChild(li);
    }
    const kind = node.querySelector("[data-field=kind]");
    const label = {shared_platform: kind.dataset.sharedPlatform, own_agency: kind.dataset.ownAgency}[match.kind];
    kind.textContent = label || "";
    kind.hidden = !label;
    const reuse = node.querySelector("[data-field=reuse]");
    reuse.value = match.code;
    reuse.textContent = match.is_shared_platform ? reuse.dataset.platformLabel : reuse.dataset.systemLabel;
    if (match.relation === "reuse") {
      node.querySelector("[data-field=score]").classList.replace("text-bg-warning", "text-bg-success");
    }
    return node;
  }

  async function refresh() {
    const mine = ++latest;
    panel.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(panel.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token ? token.content : ""},
        body: JSON.stringify(payload()),
      });
      if (response.ok && mine === latest) {
        const body = await response.json();
        render(body.matches, body.too_short);
      }
    } catch (error) {
      // Offline or busy: the "Check for overlaps" button still works.
    } finally {
      if (mine === latest) {
        panel.removeAttribute("aria-busy");
      }
    }
  }

  function schedule(event) {
    if (event.target && watched.has(event.target.name)) {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, delay);
    }
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  // A record being edited already has a name: show its matches without waiting for a keystroke.
  if (form.elements.name && form.elements.name.value.trim() && panel.dataset.count === "") {
    refresh();
  }
})();
