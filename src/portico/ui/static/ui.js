// Portico admin UI: the little behaviour the server-rendered pages need. No dependencies.
// - tbody[data-refresh]: reloads its rows every data-every ms (paused while the tab is hidden),
//   keeping the rows the user expanded open;
// - tr.request: click or Enter toggles the explanation row after it;
// - form[data-confirm]: asks before submitting; select[data-autosubmit] submits its form.
(function () {
  "use strict";
  const open = new Set();

  function toggle(row) {
    const id = row.dataset.record;
    const detail = row.nextElementSibling;
    if (!detail || !detail.classList.contains("explain")) return;
    const show = detail.hidden;
    detail.hidden = !show;
    row.setAttribute("aria-expanded", String(show));
    if (show) open.add(id); else open.delete(id);
  }

  function wire(root) {
    root.querySelectorAll("tr.request").forEach(function (row) {
      if (open.has(row.dataset.record)) toggle(row);
    });
  }

  document.addEventListener("click", function (event) {
    const row = event.target.closest("tr.request");
    if (row) toggle(row);
  });
  document.addEventListener("keydown", function (event) {
    const row = event.target.closest && event.target.closest("tr.request");
    if (row && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); toggle(row); }
  });
  document.addEventListener("submit", function (event) {
    const message = event.target.dataset.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  });

  function poll(body) {
    const every = Number(body.dataset.every || 2000);
    const state = document.getElementById("live-state");
    async function tick() {
      if (!document.hidden) {
        try {
          const answer = await fetch(body.dataset.refresh, { credentials: "same-origin", cache: "no-store" });
          if (answer.redirected && new URL(answer.url).pathname === "/ui/login") {
            window.location.assign("/ui/login");
            return;
          }
          if (answer.ok) {
            body.innerHTML = await answer.text();
            wire(body);
            if (state) { state.textContent = "live"; state.classList.remove("stale"); }
          }
        } catch (err) {
          if (state) { state.textContent = "reconnecting"; state.classList.add("stale"); }
        }
      }
      window.setTimeout(tick, every);
    }
    window.setTimeout(tick, every);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("tbody[data-refresh]").forEach(poll);
  });
})();
