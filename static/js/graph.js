/* Draw dependency neighbourhoods with Cytoscape.js.
 *
 * Each [data-graph] element names, in data-graph-source, a JSON script holding the answer of
 * GET /api/v1/graph (rendered into the page, so no second request is needed). "full" is the
 * explorer: tapping a system centres the explorer on it; "small" is the picture on a system's
 * page: tapping a system opens that system's page. Colours come from CSS classes
 * (static/css/app.css, static/css/graph.css), the legend's source too.
 */
(function () {
  "use strict";

  var STATUSES = ["draft", "submitted", "in_review", "changes_requested", "approved", "rejected", "in_operation", "retired"];
  var LEVELS = ["central", "province", "commune"];
  var RELATIONS = ["data_exchange", "authentication", "hosted_on", "consumes_api", "replaces", "instance_of", "various"];

  function cssOf(className) {
    var probe = document.createElement("span");
    probe.className = className;
    probe.hidden = true;
    document.body.appendChild(probe);
    var style = window.getComputedStyle(probe);
    var found = {
      background: style.backgroundColor,
      border: style.borderTopColor,
      borderStyle: style.borderTopStyle,
      borderWidth: parseFloat(style.borderTopWidth) || 2
    };
    probe.remove();
    return found;
  }

  function palette() {
    var colours = { status: {}, level: {}, relation: {} };
    STATUSES.forEach(function (s) { colours.status[s] = cssOf("status-" + s).background; });
    LEVELS.forEach(function (l) { colours.level[l] = cssOf("level-" + l).background; });
    RELATIONS.forEach(function (r) { colours.relation[r] = cssOf("rel-" + r); });
    colours.group = cssOf("graph-group-colour");
    colours.focus = cssOf("graph-focus-colour").border;
    colours.isolated = cssOf("graph-isolated-colour").border;
    colours.duplicates = cssOf("graph-duplicates-colour").border;
    return colours;
  }

  function elements(data) {
    var nodes = data.nodes.map(function (n) {
      var classes = [n.type];
      if (n.is_shared_platform) { classes.push("platform"); }
      if (n.focus) { classes.push("focus"); }
      if (n.isolated) { classes.push("flag-isolated"); }
      if (n.duplicates_central) { classes.push("flag-duplicates"); }
      return { group: "nodes", data: n, classes: classes.join(" ") };
    });
    var edges = data.edges.map(function (e) {
      return { group: "edges", data: e, classes: "rel-" + e.kind + (e.count > 1 ? " many" : "") };
    });
    return nodes.concat(edges);
  }

  function styles(colours, small, labelWidth) {
    var font = small ? 10 : 11;
    var sheet = [
      { selector: "node", style: {
        "background-color": "data(colour)", "border-width": 1, "border-color": "#fff",
        "width": small ? 18 : 22, "height": small ? 18 : 22,
        "label": "data(label)", "font-size": font, "color": "#212529",
        "text-wrap": "wrap", "text-max-width": small ? 100 : 130, "text-valign": "bottom", "text-margin-y": 3,
        "text-background-color": "#fff", "text-background-opacity": 0.85, "text-background-padding": 1,
        "min-zoomed-font-size": small ? 0 : 7
      } },
      { selector: "node.platform", style: { "shape": "diamond", "width": small ? 30 : 40, "height": small ? 30 : 40, "font-weight": "bold", "min-zoomed-font-size": 0 } },
      { selector: "node.group", style: {
        "shape": "round-rectangle", "background-color": colours.group.background, "border-color": colours.group.border,
        "border-style": "dashed", "border-width": 2, "width": 26, "height": 18, "color": "#495057", "font-style": "italic"
      } },
      { selector: "node.focus", style: { "text-max-width": 170, "border-width": 5, "border-color": colours.focus, "width": small ? 28 : 34, "height": small ? 28 : 34, "font-size": font + 2, "font-weight": "bold", "min-zoomed-font-size": 0, "z-index": 10 } },
      { selector: "node.platform.focus", style: { "width": small ? 36 : 48, "height": small ? 36 : 48 } },
      // A small picture has room for its one focus to be named in full: a name cut short there
      // is the one the reader came to compare.
      { selector: "node.focus.system", style: small ? { "label": "data(name)", "text-max-width": 200 } : {} },
      { selector: "node.overlay-on.flag-isolated", style: { "border-color": colours.isolated, "border-style": "dashed", "border-width": 4 } },
      { selector: "node.overlay-on.flag-duplicates", style: { "border-color": colours.duplicates, "border-style": "double", "border-width": 6 } },
      { selector: "edge", style: {
        "width": 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.8, "opacity": 0.85
      } },
      { selector: "edge.many", style: { "width": "mapData(count, 2, 2000, 2, 8)" } },
      { selector: "node:selected", style: { "overlay-opacity": 0.15 } },
      { selector: "node.column-left", style: { "text-halign": "left", "text-valign": "center", "text-margin-x": -8, "text-margin-y": 0, "text-max-width": labelWidth } },
      { selector: "node.column-right", style: { "text-halign": "right", "text-valign": "center", "text-margin-x": 8, "text-margin-y": 0, "text-max-width": labelWidth } }
    ];
    RELATIONS.forEach(function (r) {
      var c = colours.relation[r];
      var lineStyle = c.borderStyle === "dashed" || c.borderStyle === "dotted" ? c.borderStyle : "solid";
      sheet.push({ selector: "edge.rel-" + r, style: { "line-color": c.border, "target-arrow-color": c.border, "line-style": lineStyle } });
    });
    sheet.push({ selector: "edge.rel-replaces", style: { "target-arrow-shape": "tee" } });
    sheet.push({ selector: "edge.rel-instance_of", style: { "width": 3 } });
    return sheet;
  }

  function colourBy(cy, colours, mode) {
    cy.batch(function () {
      cy.nodes("node.system").forEach(function (node) {
        var d = node.data();
        var colour = mode === "level" ? colours.level[d.agency_level] : colours.status[d.status];
        node.data("colour", colour || "#adb5bd");
      });
    });
  }

  var COLUMN_MOST = 12;

  /* A star with few arms reads best as three columns, as the comparison page drew it: what
     depends on the focus on the left, the focus, what it depends on on the right. Returns
     null when one side is too long for a column (concentric rings then). */
  function columns(data, labelWidth, available) {
    var focus = data.nodes.filter(function (n) { return n.focus; })[0];
    if (!focus) { return null; }
    var side = {};
    data.edges.forEach(function (e) {
      if (e.source === focus.id) { side[e.target] = "right"; }
      else if (e.target === focus.id && side[e.source] !== "right") { side[e.source] = "left"; }
    });
    var left = [], right = [];
    data.nodes.forEach(function (n) {
      if (n.focus) { return; }
      if (side[n.id] === "left") { left.push(n.id); }
      else if (side[n.id] === "right") { right.push(n.id); }
    });
    if (left.length + right.length !== data.nodes.length - 1) { return null; }
    if (left.length > COLUMN_MOST || right.length > COLUMN_MOST) { return null; }
    var positions = {}, gap = 52;
    var width = Math.max(50, Math.min(260, (available - 2 * labelWidth - 60) / 2));
    positions[focus.id] = { x: 0, y: 0 };
    [[left, -width], [right, width]].forEach(function (column) {
      var ids = column[0];
      ids.forEach(function (id, i) { positions[id] = { x: column[1], y: (i - (ids.length - 1) / 2) * gap }; });
    });
    return { positions: positions, side: side };
  }

  function draw(container) {
    var source = document.getElementById(container.dataset.graphSource);
    if (!source || typeof window.cytoscape !== "function") { return; }
    var data = JSON.parse(source.textContent);
    var small = container.dataset.graph === "small";
    var colours = palette();
    var labelWidth = container.clientWidth < 560 ? 90 : 190;
    var laid = columns(data, labelWidth, container.clientWidth);
    var items = elements(data);
    if (laid) {
      items.forEach(function (item) {
        if (item.group === "nodes" && laid.side[item.data.id]) { item.classes += " column-" + laid.side[item.data.id]; }
      });
    }
    var cy = window.cytoscape({
      container: container,
      elements: items,
      style: styles(colours, small, labelWidth),
      layout: laid ? {
        name: "preset",
        positions: function (node) { return laid.positions[node.id()]; },
        fit: true,
        padding: small ? 16 : 40
      } : {
        name: "concentric",
        concentric: function (node) { return 10 - node.data("hops"); },
        levelWidth: function () { return 1; },
        minNodeSpacing: small ? 14 : 26,
        spacingFactor: small ? 1.0 : 1.1,
        avoidOverlap: true,
        animate: false,
        padding: small ? 12 : 24
      },
      minZoom: 0.2,
      maxZoom: 3,
      wheelSensitivity: 0.3,
      userZoomingEnabled: !small,
      userPanningEnabled: !small,
      boxSelectionEnabled: false,
      autoungrabify: small
    });
    if (!laid && cy.nodes().length > 2) {
      // Rings place every system by its distance only; a force-directed pass from there pulls
      // each system towards the ones it is connected to, so neighbourhoods form clusters.
      cy.layout({
        name: "cose",
        randomize: false,
        animate: false,
        fit: true,
        padding: small ? 12 : 24,
        nodeRepulsion: function () { return 9000; },
        idealEdgeLength: function () { return small ? 40 : 70; },
        nodeOverlap: 12,
        numIter: 1200,
        gravity: 0.6
      }).run();
    }
    if (cy.zoom() > 1.4) {
      // A handful of nodes would be blown up to fill the box; keep the labels at reading size.
      cy.zoom(1.4);
      cy.center();
    }
    container.classList.add("graph-ready");
    colourBy(cy, colours, "status");
    cy.nodes().addClass("overlay-on");
    cy.on("tap", "node.system", function (event) {
      var code = event.target.data("code");
      if (small) {
        window.location.assign(container.dataset.systemUrl.replace("__CODE__", encodeURIComponent(code)));
      } else if (!event.target.data("focus")) {
        var url = new URL(container.dataset.explorerUrl, window.location.href);
        url.searchParams.set("focus", code);
        url.searchParams.set("hops", container.dataset.hops);
        window.location.assign(url.toString());
      }
    });
    cy.on("mouseover", "node.system", function () { container.style.cursor = "pointer"; });
    cy.on("mouseout", "node", function () { container.style.cursor = ""; });
    container.cy = cy;
    return cy;
  }

  function wireControls(cy) {
    var controls = document.querySelector("[data-graph-controls]");
    if (!controls || !cy) { return; }
    controls.hidden = false;
    var hint = document.querySelector("[data-graph-hint]");
    if (hint) { hint.hidden = false; }
    var colours = palette();
    controls.querySelectorAll("input[name=colour-by]").forEach(function (input) {
      input.addEventListener("change", function () {
        colourBy(cy, colours, input.value);
        document.querySelectorAll("[data-legend]").forEach(function (el) {
          el.hidden = el.dataset.legend !== input.value;
        });
      });
    });
    var overlays = document.getElementById("graph-overlays");
    if (overlays) {
      overlays.addEventListener("change", function () {
        cy.nodes().toggleClass("overlay-on", overlays.checked);
      });
    }
    var hops = document.querySelector("[data-hops-form] select");
    var submit = document.querySelector("[data-hops-submit]");
    if (hops && submit) {
      submit.hidden = true;
      hops.addEventListener("change", function () { hops.form.submit(); });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var first = null;
    document.querySelectorAll("[data-graph]").forEach(function (container) {
      var cy = draw(container);
      if (container.dataset.graph === "full" && cy) { first = cy; }
    });
    wireControls(first);
  });
})();
