// Progressive enhancement; every page works without this script.
// The body map: a tap on a place ticks the option that names it, and a ticked option colours its
// place (the checkboxes remain the controls). Ticking "not sure" beside an option unticks it.
// With htmx, a page's main part is swapped in place: the new content is bound the same way, and
// the focus moves to its heading for screen readers.
(function () {
  function bindMaps(root) {
    root.querySelectorAll("[data-map]").forEach(function (map) {
      if (map.dataset.bound) { return; }
      map.dataset.bound = "1";
      var form = map.closest("form");
      function sync() {
        map.querySelectorAll(".region.active").forEach(function (g) {
          var box = form.querySelector("#opt-" + g.dataset.option);
          g.classList.toggle("on", !!(box && box.checked));
        });
      }
      map.querySelectorAll(".region.active").forEach(function (g) {
        g.addEventListener("click", function () {
          var box = form.querySelector("#opt-" + g.dataset.option);
          if (box) { box.checked = !box.checked; sync(); }
        });
      });
      form.addEventListener("change", sync);
      sync();
    });
  }
  // An option is either ticked or "not sure", never both (the server refuses both).
  function bindUnsure(root) {
    root.querySelectorAll("[data-unsure-of]").forEach(function (unsure) {
      if (unsure.dataset.bound) { return; }
      unsure.dataset.bound = "1";
      var box = document.getElementById(unsure.dataset.unsureOf);
      if (!box) { return; }
      unsure.addEventListener("change", function () {
        if (unsure.checked && box.checked) { box.checked = false; box.dispatchEvent(new Event("change", { bubbles: true })); }
      });
      box.addEventListener("change", function () { if (box.checked) { unsure.checked = false; } });
    });
  }
  function bind(root) { bindMaps(root); bindUnsure(root); }
  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  document.addEventListener("htmx:load", function (event) { bind(event.detail.elt); });
  document.addEventListener("htmx:afterSettle", function () {
    var heading = document.querySelector("main h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  });
})();
