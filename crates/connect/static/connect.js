// rakguard-connect: progressive enhancement for the hosted pages. Every page works without this
// script. No libraries, no eval, no inline handlers, no markup built from strings.
(function () {
  "use strict";

  // Keys never contain whitespace or quotes: drop what a copy from a document or chat adds.
  var STRIP = /[\s"'`\u2018\u2019\u201C\u201D\u00AB\u00BB<>]+/g;

  function cleanValue(input) {
    var cleaned = input.value.replace(STRIP, "");
    if (cleaned !== input.value) {
      input.value = cleaned;
    }
  }

  function addRevealToggle(input) {
    var row = input.parentNode;
    if (!row || !input.id) {
      return;
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "reveal";
    button.textContent = "Show";
    button.setAttribute("aria-controls", input.id);
    button.setAttribute("aria-pressed", "false");
    button.setAttribute("aria-label", "Show the key");
    button.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      button.textContent = show ? "Hide" : "Show";
      button.setAttribute("aria-pressed", show ? "true" : "false");
      button.setAttribute("aria-label", show ? "Hide the key" : "Show the key");
    });
    row.appendChild(button);
  }

  function submitButton(form) {
    return form.querySelector('button[type="submit"]');
  }

  function markBusy(form, event) {
    if (form.getAttribute("data-submitted") === "true") {
      // A second click while the first request is on its way.
      event.preventDefault();
      return;
    }
    var inputs = form.querySelectorAll("input[data-key-input]");
    for (var i = 0; i < inputs.length; i++) {
      cleanValue(inputs[i]);
      if (inputs[i].type === "text") {
        inputs[i].type = "password";
      }
    }
    var button = submitButton(form);
    if (!button) {
      return;
    }
    form.setAttribute("data-submitted", "true");
    button.setAttribute("data-label", button.textContent);
    button.textContent = form.getAttribute("data-busy") || "Verifying…";
    button.setAttribute("aria-busy", "true");
    // Disable after the submission has started, so the browser still sends the form.
    window.setTimeout(function () {
      button.disabled = true;
    }, 0);
  }

  function reset() {
    var forms = document.querySelectorAll("form[data-submitted]");
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i];
      form.removeAttribute("data-submitted");
      var button = submitButton(form);
      if (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        var label = button.getAttribute("data-label");
        if (label) {
          button.textContent = label;
        }
      }
    }
    var toggles = document.querySelectorAll("button.reveal");
    for (var j = 0; j < toggles.length; j++) {
      var input = document.getElementById(toggles[j].getAttribute("aria-controls"));
      if (input) {
        input.type = "password";
      }
      toggles[j].textContent = "Show";
      toggles[j].setAttribute("aria-pressed", "false");
      toggles[j].setAttribute("aria-label", "Show the key");
    }
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-key-input]");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      addRevealToggle(input);
      input.addEventListener("paste", function (event) {
        var target = event.target;
        // Let the paste land, then clean it.
        window.setTimeout(function () {
          cleanValue(target);
        }, 0);
      });
      input.addEventListener("change", function (event) {
        cleanValue(event.target);
      });
    }
    var forms = document.querySelectorAll("form[data-busy]");
    for (var k = 0; k < forms.length; k++) {
      forms[k].addEventListener("submit", function (event) {
        markBusy(event.currentTarget, event);
      });
    }
    // Back/forward cache: a page restored after a submit must not keep a dead button.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        reset();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
