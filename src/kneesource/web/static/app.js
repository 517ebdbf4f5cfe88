// Progressive enhancement; every page works without this script.
// The body map: a tap on a place ticks the option that names it, and a ticked option colours its
// place (the checkboxes remain the controls). With htmx, a page's main part is swapped in place:
// the new content is bound the same way, and the focus moves to its heading for screen readers.
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
  document.addEventListener("DOMContentLoaded", function () { bindMaps(document); });
  document.addEventListener("htmx:load", function (event) { bindMaps(event.detail.elt); });
  document.addEventListener("htmx:afterSettle", function () {
    var heading = document.querySelector("main h1");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  });
})();
