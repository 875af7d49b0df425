// The console's own behaviour: keyboard shortcuts, the canned-reply picker and the
// collision notice's poll. No inline handlers anywhere, so the pages run under a strict
// Content-Security-Policy; every feature also works (more slowly) without script.
(function () {
  "use strict";

  function typingIn(t) {
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  function focus(id) {
    var el = document.getElementById(id);
    if (!el) return false;
    el.focus();
    if (el.scrollIntoView) el.scrollIntoView({ block: "center" });
    return true;
  }

  // ---------- the queue: j/k move, o/Enter open ----------

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll(".queue > li"));
  }

  function current() {
    return document.querySelector(".queue > li.kb-current");
  }

  function move(step) {
    var list = rows();
    if (!list.length) return false;
    var at = list.indexOf(current());
    var next = at < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + step));
    list.forEach(function (li) { li.classList.remove("kb-current"); });
    var li = list[next];
    li.classList.add("kb-current");
    var link = li.querySelector("a.subject");
    if (link) link.focus();
    return true;
  }

  function openCurrent() {
    var li = current();
    var link = li && li.querySelector("a.subject");
    if (!link) return false;
    window.location.href = link.href;
    return true;
  }

  // ---------- the help dialog ----------

  function showHelp() {
    var d = document.getElementById("shortcuts");
    if (!d || d.open) return false;
    d.showModal();
    return true;
  }

  document.addEventListener("click", function (ev) {
    if (ev.target.closest && ev.target.closest(".keys-open")) showHelp();
  });

  // ---------- the keys ----------

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (typingIn(ev.target)) return;
    var d = document.getElementById("shortcuts");
    if (d && d.open) return; // the dialog handles Escape itself
    var done = false;
    switch (ev.key) {
      case "j": done = move(1); break;
      case "k": done = move(-1); break;
      case "o": done = openCurrent(); break;
      case "Enter":
        // A focused link or button already does the right thing on Enter.
        if (!ev.target.closest || !ev.target.closest("a, button")) done = openCurrent();
        break;
      case "/": done = focus("q"); break;
      case "r":
        var reply = document.querySelector('#reply-form input[name=kind][value=reply]');
        if (reply) reply.checked = true;
        done = focus("reply-body");
        break;
      case "n":
        var note = document.querySelector('#reply-form input[name=kind][value=note]');
        if (note) note.checked = true;
        done = focus("reply-body");
        break;
      case "c": done = focus("canned"); break;
      case "e": done = focus("esc-reason"); break;
      case "u": done = focus("need"); break;
      case "g":
        if (window.location.pathname !== "/console") {
          window.location.href = "/console";
          done = true;
        }
        break;
      case "?": done = showHelp(); break;
    }
    if (done) ev.preventDefault();
  });

  // ---------- canned replies: insert the text rendered for this ticket ----------

  function insertAtCursor(area, text) {
    var start = area.selectionStart, end = area.selectionEnd;
    var before = area.value.slice(0, start), after = area.value.slice(end);
    var sep = before && !/\n$/.test(before) ? "\n\n" : "";
    area.value = before + sep + text + after;
    var caret = (before + sep + text).length;
    area.setSelectionRange(caret, caret);
    // The coach listens for input: it reads the inserted text like typed text.
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.id !== "canned-form") return;
    var area = document.getElementById("reply-body");
    if (!area || !window.fetch) return; // without script the page reloads with the text
    ev.preventDefault();
    var id = form.querySelector("select").value;
    var url = "/api/v1/canned-replies/" + encodeURIComponent(id) + "/render?ticket_id=" + encodeURIComponent(form.getAttribute("data-ticket"));
    fetch(url, { credentials: "same-origin", headers: { accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (j) { insertAtCursor(area, j.text); })
      .catch(function () { form.submit(); });
  });

  // ---------- who else has this ticket open ----------

  var lastTyped = 0;
  var lastTold = 0;

  document.addEventListener("input", function (ev) {
    if (ev.target.id !== "reply-body" || !ev.isTrusted) return;
    lastTyped = Date.now();
    // Tell the others straight away, at most every five seconds; the poll does the rest.
    var poll = document.getElementById("presence-poll");
    if (poll && window.htmx && lastTyped - lastTold > 5000) {
      lastTold = lastTyped;
      window.htmx.trigger(poll, "typing");
    }
  });

  document.addEventListener("htmx:configRequest", function (ev) {
    if (!ev.detail.elt || ev.detail.elt.id !== "presence-poll") return;
    ev.detail.parameters.typing = Date.now() - lastTyped < 10000 ? "1" : "0";
  });

  window.addEventListener("pagehide", function () {
    var poll = document.getElementById("presence-poll");
    if (!poll || !navigator.sendBeacon) return;
    var csrf = poll.querySelector("input[name=csrf]").value;
    navigator.sendBeacon(poll.getAttribute("data-leave"), new URLSearchParams({ csrf: csrf }));
  });

  // A composer filled by the server (a canned reply picked without script) gets its
  // coach reading at once.
  document.addEventListener("DOMContentLoaded", function () {
    var area = document.getElementById("reply-body");
    if (area && area.value.trim()) area.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
