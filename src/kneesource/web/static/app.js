// The body map: a tap on a place ticks the option that names it, and a ticked option colours its
// place. The checkboxes remain the controls; without this script they work on their own.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-map]").forEach(function (map) {
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
});
