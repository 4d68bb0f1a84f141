// Refresh the 医保电子凭证 QR code: a new single-use ecToken every N seconds (a setting).
(function () {
  var card = document.querySelector(".voucher");
  if (!card) { return; }
  var every = parseInt(card.getAttribute("data-refresh"), 10) || 60;
  var img = document.getElementById("voucher-qr");
  var note = document.getElementById("voucher-countdown");
  var left = every;
  function refresh() {
    fetch("/api/v1/ec-token", { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        img.src = data.qr_svg;
        img.setAttribute("data-token-expires", data.expires_at);
        left = data.refresh_seconds || every;
      })
      .catch(function () { note.textContent = "刷新失败，请检查网络后点“立即刷新”"; });
  }
  setInterval(function () {
    left -= 1;
    if (left <= 0) { left = every; refresh(); }
    note.textContent = left + " 秒后自动刷新";
  }, 1000);
  document.getElementById("voucher-refresh").addEventListener("click", refresh);
})();
