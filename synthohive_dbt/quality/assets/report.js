// Draws the column charts that travel as JSON when their section opens, and opens the
// sections on the way to a link's target (#t0-c5 may be one of those charts).
(function () {
  var store = JSON.parse(document.getElementById("lazy-charts").textContent || "{}");
  function fill(box) {
    if (box.getAttribute("data-filled")) return;
    box.querySelector(".lazy-body").innerHTML = store[box.getAttribute("data-lazy")] || "";
    box.setAttribute("data-filled", "1");
  }
  var boxes = Array.prototype.slice.call(document.querySelectorAll("details[data-lazy]"));
  boxes.forEach(function (box) {
    box.addEventListener("toggle", function () { if (box.open) fill(box); });
    if (box.open) fill(box);
  });
  function reveal() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (!id) return;
    var target = document.getElementById(id);
    for (var i = 0; !target && i < boxes.length; i++) {
      if ((store[boxes[i].getAttribute("data-lazy")] || "").indexOf('id="' + id + '"') >= 0) {
        fill(boxes[i]);
        target = document.getElementById(id);
      }
    }
    for (var p = target && target.parentElement; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") p.open = true;
    }
    if (target) target.scrollIntoView();
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();
