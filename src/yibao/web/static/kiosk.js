/* The kiosk's screen (自助查询机). No inline script (CSP): every behaviour is here.
   - On-screen keypad (its digits come shuffled from the server), voice (speechSynthesis).
   - Privacy: the screen polls /kiosk/state every second; a removed card, an ended session or a
     lost server clears the screen at once. After the idle time without a touch a countdown
     starts; at zero the session ends. Nothing personal is ever written to storage. */
(function () {
  "use strict";
  var body = document.body;
  var inSession = body.dataset.session === "1";
  var idle = parseInt(body.dataset.idle || "60", 10);
  var countdown = parseInt(body.dataset.countdown || "10", 10);
  var lang = body.dataset.lang === "en" ? "en-US" : "zh-CN";
  var lastTouch = Date.now();
  var lastSent = Date.now();
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var counting = false;
  var failures = 0;
  var leaving = false;

  function voiceOn() {
    try { return window.sessionStorage.getItem("kiosk-voice") === "1"; } catch (e) { return false; }
  }
  function say(text) {
    if (!voiceOn() || !text || !("speechSynthesis" in window)) return;
    window.speechSynthesis.cancel();
    var u = new SpeechSynthesisUtterance(text);
    u.lang = lang;
    window.speechSynthesis.speak(u);
  }
  function wipe() {
    var main = document.getElementById("main");
    if (main) main.replaceChildren();
    if ("speechSynthesis" in window) window.speechSynthesis.cancel();
  }
  function leave(url) {
    if (leaving) return;
    leaving = true;
    wipe();
    window.location.replace(url);
  }
  function exitNow(reason) {
    var form = document.getElementById("exit-form");
    if (!form) { leave("/kiosk"); return; }
    document.getElementById("exit-reason").value = reason;
    leaving = true;
    wipe();
    form.submit();
  }

  // --- voice ---
  var voice = document.getElementById("voice-switch");
  if (voice) {
    voice.setAttribute("aria-pressed", voiceOn() ? "true" : "false");
  }
  function speakPage() {
    var panel = document.querySelector("[data-say]");
    if (panel) say(panel.getAttribute("data-say"));
  }

  // --- taps ---
  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-action]");
    lastTouch = Date.now();
    if (!target) {
      var pressed = event.target.closest("a, button");
      if (pressed) say(pressed.textContent.trim());
      return;
    }
    var action = target.dataset.action;
    if (action === "kiosk-digit") {
      var field = document.getElementById("card-password");
      if (field && field.value.length < 6) field.value += target.dataset.digit;
      say(lang === "en-US" ? "entered " + field.value.length : "已输入" + field.value.length + "位");
    } else if (action === "kiosk-clear") {
      document.getElementById("card-password").value = "";
      say(target.textContent.trim());
    } else if (action === "kiosk-voice") {
      var on = !voiceOn();
      try { window.sessionStorage.setItem("kiosk-voice", on ? "1" : "0"); } catch (e) { /* none */ }
      target.setAttribute("aria-pressed", on ? "true" : "false");
      if (on) speakPage(); else if ("speechSynthesis" in window) window.speechSynthesis.cancel();
    } else if (action === "kiosk-stay") {
      stopCountdown();
    }
  });
  ["pointerdown", "keydown", "touchstart"].forEach(function (name) {
    document.addEventListener(name, function () { if (!counting) lastTouch = Date.now(); }, { passive: true });
  });

  // --- idle countdown (session pages) ---
  var overlay = document.getElementById("countdown");
  var seconds = document.getElementById("countdown-seconds");
  var left = countdown;
  function stopCountdown() {
    counting = false;
    lastTouch = Date.now();
    if (overlay) overlay.hidden = true;
  }
  function tellServer() {
    // Touches between page loads keep the session alive on the server too (at most every 15 s).
    if (lastTouch <= lastSent || Date.now() - lastSent < 15000) return;
    lastSent = Date.now();
    fetch("/kiosk/touch", { method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf ? csrf.content : "" } }).catch(function () { /* poll handles it */ });
  }
  function tickIdle() {
    if (!inSession || leaving) return;
    if (!counting) tellServer();
    var quiet = (Date.now() - lastTouch) / 1000;
    if (!counting && quiet >= idle - countdown) {
      counting = true;
      left = countdown;
      overlay.hidden = false;
      say(document.getElementById("countdown-title").textContent);
    }
    if (counting) {
      seconds.textContent = String(left);
      if (left <= 0) { exitNow("idle"); return; }
      left -= 1;
    }
  }

  // --- state poll: the card, the session, the server ---
  var watchCard = document.querySelector("[data-watch-card]");
  var onKeypad = !!document.getElementById("keypad-form");
  function poll() {
    if (leaving || (!inSession && !watchCard)) return;
    fetch("/kiosk/state", { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 403) { if (inSession || onKeypad) leave("/kiosk"); return null; }
        return response.json();
      })
      .then(function (state) {
        if (!state) return;
        if (failures > 1) {
          failures = 0;
          if (inSession) { exitNow("signed_out"); return; }
          document.getElementById("offline").hidden = true;
        }
        failures = 0;
        if (inSession && !state.session) { leave("/kiosk/bye?reason=" + encodeURIComponent(state.ended_reason || "idle")); return; }
        if (watchCard) {
          var message = document.getElementById("card-message");
          if (state.card === "present" && !onKeypad && !inSession) { leaving = true; window.location.assign("/kiosk/card"); return; }
          if (onKeypad && state.card !== "present") { leave("/kiosk"); return; }
          if (message) {
            message.hidden = !state.message;
            if (state.message && message.textContent !== state.message) { message.textContent = state.message; say(state.message); }
          }
        }
      })
      .catch(function () {
        failures += 1;
        if (failures > 1) {
          if (inSession) wipe();
          document.getElementById("offline").hidden = false;
        }
      });
  }

  // --- print job ---
  var job = document.querySelector("[data-print-job]");
  function pollJob() {
    var state = document.getElementById("print-state");
    if (!job || ["printed", "failed", "cancelled"].indexOf(state.dataset.state) >= 0) return;
    fetch("/kiosk/print/" + job.dataset.printJob + "/state", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (!s.state || s.state === state.dataset.state) return;
        state.dataset.state = s.state;
        if (s.state === "printed") state.textContent = document.getElementById("print-done-text").textContent;
        if (s.state === "failed") state.textContent = (s.message || "") + " " + document.getElementById("print-failed-text").textContent;
        say(state.textContent);
      })
      .catch(function () { /* the state poll handles a lost server */ });
  }

  // --- the goodbye page returns to the start on its own ---
  var back = document.querySelector("[data-return]");
  if (back) window.setTimeout(function () { window.location.replace("/kiosk"); }, 1000 * parseInt(back.dataset.return, 10));

  // A page restored from the back-forward cache is asked again (the server decides what it shows).
  window.addEventListener("pageshow", function (event) { if (event.persisted) window.location.reload(); });

  speakPage();
  window.setInterval(function () { tickIdle(); poll(); pollJob(); }, 1000);
})();
