// Voice search (the seed: say "查询医保" to jump there). Only where the browser has speech
// recognition: the microphone button stays hidden everywhere else and the form works as before.
(function () {
  "use strict";
  var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
  if (!Recognition) { return; }
  var forms = document.querySelectorAll("form[data-voice-search]");
  Array.prototype.forEach.call(forms, function (form) {
    var button = form.querySelector("[data-voice-button]");
    var input = form.querySelector("input[name=q]");
    var status = form.nextElementSibling;
    if (!button || !input) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var recognition = new Recognition();
      recognition.lang = button.getAttribute("data-lang") || "zh-CN";
      recognition.interimResults = false;
      recognition.maxAlternatives = 1;
      if (status) { status.textContent = button.getAttribute("data-listening"); }
      recognition.onresult = function (event) {
        var said = event.results[0][0].transcript.replace(/[。．.!！?？]+$/, "");
        input.value = said;
        form.submit();
      };
      recognition.onerror = function () {
        if (status) { status.textContent = button.getAttribute("data-failed"); }
      };
      recognition.start();
    });
  });
})();
