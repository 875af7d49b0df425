// Keyboard shortcuts for the common moves. Kept tiny and free of inline handlers so the
// pages can run under a strict Content-Security-Policy.
//   /  search (queues)      r  write a reply      e  escalate      n  the need field
document.addEventListener("keydown", function (ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  var t = ev.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  var map = { "/": "q", r: "reply-body", e: "esc-reason", n: "need" };
  var id = map[ev.key];
  var el = id && document.getElementById(id);
  if (el) {
    ev.preventDefault();
    el.focus();
  }
});
