// Passkeys (WebAuthn) for the sign-in, step-up and passkey pages. No framework: a few fetches.
(function () {
  "use strict";
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const b64uToBuf = (s) => {
    const pad = "=".repeat((4 - (s.length % 4)) % 4);
    const bin = atob((s + pad).replace(/-/g, "+").replace(/_/g, "/"));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  };
  const bufToB64u = (buf) => {
    let bin = "";
    new Uint8Array(buf).forEach((b) => { bin += String.fromCharCode(b); });
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  async function post(url, body) {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error((data.error && data.error.message) || "操作未完成，请重试");
    return data;
  }
  function showError(err) {
    if (window.console) console.warn("passkey:", err && err.name, err && err.message);
    const box = document.getElementById("passkey-error");
    if (!box) return;
    const name = err && err.name;
    box.textContent = name === "NotAllowedError" ? "已取消或超时，请重试" : (err.message || String(err));
    box.hidden = false;
  }
  function unsupported() {
    if (window.PublicKeyCredential) return false;
    showError(new Error("此浏览器不支持通行密钥，请使用密码或短信验证码"));
    return true;
  }
  function assertionJSON(cred) {
    return {
      id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: {
        clientDataJSON: bufToB64u(cred.response.clientDataJSON),
        authenticatorData: bufToB64u(cred.response.authenticatorData),
        signature: bufToB64u(cred.response.signature),
        userHandle: cred.response.userHandle ? bufToB64u(cred.response.userHandle) : null,
      },
    };
  }
  async function getAssertion(optionsUrl) {
    const { options, flow } = await post(optionsUrl);
    const publicKey = Object.assign({}, options, {
      challenge: b64uToBuf(options.challenge),
      allowCredentials: (options.allowCredentials || []).map((c) => Object.assign({}, c, { id: b64uToBuf(c.id) })),
    });
    const cred = await navigator.credentials.get({ publicKey });
    return { flow, credential: assertionJSON(cred) };
  }
  async function signIn(button) {
    if (unsupported()) return;
    try {
      const answer = await getAssertion("/login/passkey/options");
      answer.next = button.dataset.next || "/";
      const done = await post("/login/passkey", answer);
      window.location.assign(done.next);
    } catch (err) { showError(err); }
  }
  async function verify(button) {
    if (unsupported()) return;
    try {
      const answer = await getAssertion("/verify/passkey/options");
      answer.next = button.dataset.next || "/security";
      const done = await post("/verify/passkey", answer);
      window.location.assign(done.next);
    } catch (err) { showError(err); }
  }
  async function add() {
    if (unsupported()) return;
    try {
      const { options, flow } = await post("/passkeys/options");
      const publicKey = Object.assign({}, options, {
        challenge: b64uToBuf(options.challenge),
        user: Object.assign({}, options.user, { id: b64uToBuf(options.user.id) }),
        excludeCredentials: (options.excludeCredentials || []).map((c) => Object.assign({}, c, { id: b64uToBuf(c.id) })),
      });
      const cred = await navigator.credentials.create({ publicKey });
      const credential = {
        id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type,
        authenticatorAttachment: cred.authenticatorAttachment || null,
        clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
        response: {
          clientDataJSON: bufToB64u(cred.response.clientDataJSON),
          attestationObject: bufToB64u(cred.response.attestationObject),
          transports: cred.response.getTransports ? cred.response.getTransports() : [],
        },
      };
      await post("/passkeys", { flow, credential, name: "本机通行密钥" });
      const ok = document.getElementById("passkey-added");
      if (ok) ok.hidden = false;
      window.location.reload();
    } catch (err) { showError(err); }
  }
  const bind = (id, fn) => {
    const el = document.getElementById(id);
    if (el) el.addEventListener("click", () => fn(el));
  };
  bind("passkey-login", signIn);
  bind("passkey-verify", verify);
  bind("passkey-add", add);
})();
