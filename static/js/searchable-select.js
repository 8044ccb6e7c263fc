// Long multiple choices (192 user agencies, the capabilities) become a searchable list.
// Tom Select keeps the original <select multiple> in the form and in sync, so the form posts
// exactly the same values; without JavaScript the plain select stays and works as before.
// The words it shows come from data attributes on the form, in the reader's language.
(function () {
  "use strict";
  if (!window.TomSelect) {
    return;
  }
  const texts = document.querySelector("[data-searchable-texts]");
  const say = (name, fallback) => (texts && texts.dataset[name]) || fallback;

  function escape(text) {
    const span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  }

  for (const select of document.querySelectorAll("select[multiple][data-searchable]")) {
    const widget = new window.TomSelect(select, {
      plugins: {remove_button: {title: say("remove", "Remove")}},
      maxOptions: null,
      hidePlaceholder: true,
      closeAfterSelect: false,
      clearAfterSelect: true,
      placeholder: say("placeholder", "Type to search"),
      render: {
        no_results: () => '<div class="no-results">' + escape(say("none", "No match")) + "</div>",
      },
    });
    // What described the plain select (its help text, its error) describes the search box.
    const box = widget.control_input;
    for (const name of ["aria-describedby", "aria-invalid"]) {
      if (select.hasAttribute(name)) {
        box.setAttribute(name, select.getAttribute(name));
      }
    }
    if (select.required) {
      box.setAttribute("aria-required", "true");
    }
    // The plain select now only carries the values to the form: the search box has its label,
    // and assistive technology should meet the field once.
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    if (select.classList.contains("is-invalid")) {
      widget.wrapper.classList.add("is-invalid");
    }
    const help = document.getElementById(select.id + "-help");
    if (help && help.dataset.searchableHelp) {
      help.textContent = help.dataset.searchableHelp;
    }
  }
})();
