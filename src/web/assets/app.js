// tandem's review app: local times, selecting items (Shift-click for a range), following a run
// in flight, and revealing or copying credentials. No framework, no network but this server.
"use strict";

// Times arrive as UTC (RFC 3339): show them in the user's zone, with how long ago.
function localTimes() {
  const now = Date.now();
  for (const el of document.querySelectorAll("time[datetime]")) {
    const t = new Date(el.getAttribute("datetime"));
    if (isNaN(t)) continue;
    const minutes = Math.round((now - t.getTime()) / 60000);
    let ago = "";
    if (minutes >= 0 && minutes < 1) ago = " (just now)";
    else if (minutes > 0 && minutes < 120) ago = ` (${minutes} minute${minutes === 1 ? "" : "s"} ago)`;
    else if (minutes < 0 && minutes > -120) ago = ` (in ${-minutes} minute${minutes === -1 ? "" : "s"})`;
    el.textContent = t.toLocaleString() + ago;
  }
}

// Checkboxes: "select all" per table or for the page, Shift-click selects the range from the
// last box clicked, and a selected row is highlighted.
function selection() {
  let last = null;
  const boxes = () => Array.from(document.querySelectorAll("input.pick"));
  const mark = (box) => box.closest("tr")?.classList.toggle("selected", box.checked);
  for (const box of boxes()) {
    box.addEventListener("click", (event) => {
      if (event.shiftKey && last && last !== box) {
        const all = boxes();
        const [a, b] = [all.indexOf(last), all.indexOf(box)].sort((x, y) => x - y);
        for (const other of all.slice(a, b + 1)) {
          other.checked = box.checked;
          mark(other);
        }
      }
      mark(box);
      last = box;
    });
  }
  for (const all of document.querySelectorAll("input.pick-all")) {
    all.addEventListener("change", () => {
      const scope = all.dataset.scope;
      for (const box of boxes()) {
        if (scope === "all" || box.dataset.scope === scope) {
          box.checked = all.checked;
          mark(box);
        }
      }
    });
  }
}

// While a run is under way, ask how far it is every second; when it ends, show the result.
function follow() {
  const progress = document.getElementById("progress");
  if (!progress || progress.dataset.follow !== "1") return;
  const text = document.getElementById("progress-text");
  const poll = async () => {
    try {
      const answer = await fetch("/app/progress", { headers: { "accept": "application/json" } });
      const state = await answer.json();
      if (!state.busy) {
        location.replace(location.pathname);
        return;
      }
      text.textContent = state.said;
    } catch (e) {
      text.textContent = "tandem does not answer; is it still running?";
    }
    setTimeout(poll, 1000);
  };
  setTimeout(poll, 500);
}

// Credentials: show the password, or copy a value.
function credentials() {
  for (const button of document.querySelectorAll("button.reveal")) {
    button.addEventListener("click", () => {
      const input = document.getElementById(button.dataset.reveal);
      const hidden = input.type === "password";
      input.type = hidden ? "text" : "password";
      button.textContent = hidden ? "Hide" : "Show";
    });
  }
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", async () => {
      const el = document.getElementById(button.dataset.copy);
      const value = el.value !== undefined ? el.value : el.textContent;
      try {
        await navigator.clipboard.writeText(value);
        button.textContent = "Copied";
      } catch (e) {
        button.textContent = "Select and copy it";
      }
    });
  }
}

// A page that waits for something outside it (a login in another tab) looks again.
function reload() {
  const waiting = document.querySelector("[data-reload]");
  if (waiting) setTimeout(() => location.reload(), Number(waiting.dataset.reload));
  // A form that opens another tab (Salesforce's login page): this page looks again after it.
  for (const form of document.querySelectorAll("form[data-reload-after-submit]")) {
    form.addEventListener("submit", () => {
      setTimeout(() => location.reload(), Number(form.dataset.reloadAfterSubmit));
    });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  reload();
  localTimes();
  selection();
  follow();
  credentials();
});
