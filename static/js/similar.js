// The live "similar systems" panel of the registration form.
// While the name, description, purpose or capabilities are typed, ask POST /api/v1/similar
// (debounced) and show the matches. Without JavaScript the panel's "Check for overlaps"
// button does the same through a normal form submission.
(function () {
  "use strict";
  const panel = document.getElementById("similar-panel");
  if (!panel || !window.fetch) {
    return;
  }
  const form = panel.closest("form");
  const list = panel.querySelector("[data-similar-list]");
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
    list.replaceChildren();
    for (const match of matches) {
      const item = template.content.firstElementChild.cloneNode(true);
      const link = item.querySelector("[data-field=name]");
      link.textContent = match.name;
      link.href = match.url;
      item.querySelector("[data-field=code]").textContent = match.code;
      item.querySelector("[data-field=owner]").textContent = match.owner;
      item.querySelector("[data-field=score]").textContent = Math.round(match.score * 100) + "%";
      const reasons = item.querySelector("[data-field=reasons]");
      for (const reason of match.reasons) {
        const li = document.createElement("li");
        li.textContent = reason;
        reasons.appendChild(li);
      }
      const kind = item.querySelector("[data-field=kind]");
      const label = {shared_platform: kind.dataset.sharedPlatform, own_agency: kind.dataset.ownAgency}[match.kind];
      kind.textContent = label || "";
      kind.hidden = !label;
      const reuse = item.querySelector("[data-field=reuse]");
      reuse.value = match.code;
      reuse.textContent = match.is_shared_platform ? reuse.dataset.platformLabel : reuse.dataset.systemLabel;
      if (match.relation === "reuse") {
        item.querySelector("[data-field=score]").classList.replace("text-bg-warning", "text-bg-success");
      }
      list.appendChild(item);
    }
    state.textContent = tooShort ? state.dataset.short : matches.length ? "" : state.dataset.none;
    panel.dataset.count = String(matches.length);
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
})();
