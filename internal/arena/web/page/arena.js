// The arena's page script, served as /arena.js (the page's
// Content-Security-Policy runs no inline script). It runs the game
// (arena.wasm, with wasm_exec.js's Go) with the settings the server put
// in the page's <body>: data-signal, the signaling URL relative to the
// page, and data-key, the server's public key (PEM) to pin, empty to
// trust the server's. The player's name and color come from ?name= and
// ?color=.
"use strict";

// loopbackHost reports whether a URL's hostname (as location.hostname
// has it: lower case, IPv4 in dotted decimal, IPv6 in brackets) names
// this machine's loopback: localhost, *.localhost, 127.0.0.0/8 or [::1].
function loopbackHost(host) {
  host = host.toLowerCase().replace(/\.$/, "");
  return host === "localhost" || host.endsWith(".localhost") ||
    host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

// showLoopbackNote shows the note on Firefox and the loopback when the
// browser is Firefox and the page came from the loopback: with its
// default settings Firefox gathers no loopback candidates and never
// pairs its own with a server's loopback one, so it cannot reach a
// server that listens on 127.0.0.1 only. (The page cannot tell what the
// server listens on: the note says "if".)
function showLoopbackNote() {
  const note = document.getElementById("loopback-note");
  if (!note || !navigator.userAgent.includes("Firefox/") || !loopbackHost(location.hostname)) {
    return;
  }
  note.hidden = false;
  const close = document.getElementById("loopback-note-close");
  if (close) {
    close.addEventListener("click", () => { note.hidden = true; });
  }
}

(async () => {
  showLoopbackNote();
  const status = document.getElementById("status");
  const show = (text) => { status.textContent = text; status.style.display = "block"; };
  const cfg = document.body.dataset;
  const q = new URLSearchParams(location.search);
  const go = new Go();
  go.argv = ["arena",
    "-server", new URL(cfg.signal || "", location.href).href,
    "-key", cfg.key || "",
    "-name", q.get("name") || "",
    "-color", q.get("color") || ""];
  try {
    const wasm = await WebAssembly.instantiateStreaming(fetch("arena.wasm"), go.importObject);
    status.style.display = "none";
    await go.run(wasm.instance);
    if (status.style.display === "none") show("the game ended: reload the page to play again");
  } catch (e) {
    show("arena: " + e);
  }
})();
