/* Passkeys (issue 13): glue around django-otp-webauthn's scripts, which are served from
   static files beside this one (no inline script: the Content-Security-Policy allows 'self' only).
   - The library's scripts call gettext(); the portal is in English, so the text is used as it is
     (no JavaScript catalogue endpoint needed).
   - After a passkey is added, go on to the page named by data-passkey-done (the recovery codes at
     first set-up, the security page otherwise). */
(function () {
  "use strict";
  if (typeof window.gettext !== "function") {
    window.gettext = function (text) { return text; };
  }
  document.addEventListener("otp_webauthn.register_complete", function () {
    var holder = document.querySelector("[data-passkey-done]");
    if (holder) {
      window.location.assign(holder.getAttribute("data-passkey-done"));
    }
  });
}());
