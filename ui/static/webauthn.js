// Runs the security-key ceremony of the page's form: asks the browser for
// a new credential (registration) or for a signature (sign-in) with the
// options the gateway put in data-options, then posts the answer as the
// form's "response" field. Errors are shown in the page's error line;
// without JavaScript the page says to sign in another way.
(function () {
  "use strict";
  var form = document.querySelector("form[data-webauthn]");
  if (!form) {
    return;
  }
  var mode = form.getAttribute("data-webauthn");
  var errorLine = document.getElementById("key-error");
  var busy = false;

  // show puts the page's message of kind (cancelled, unsupported, exists,
  // refused) in the error line.
  function show(kind) {
    var m = document.querySelector('#key-messages [data-msg="' + kind + '"]');
    errorLine.textContent = m ? m.textContent : kind;
    errorLine.hidden = false;
  }

  function toBuffer(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) {
      s += "=";
    }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toBase64URL(buffer) {
    var bytes = new Uint8Array(buffer);
    var s = "";
    for (var i = 0; i < bytes.length; i++) {
      s += String.fromCharCode(bytes[i]);
    }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeIDs(list) {
    (list || []).forEach(function (c) {
      c.id = toBuffer(c.id);
    });
  }

  // options turns the JSON options into what navigator.credentials takes.
  function options() {
    var o = JSON.parse(form.getAttribute("data-options"));
    var pk = o.publicKey;
    pk.challenge = toBuffer(pk.challenge);
    if (mode === "create") {
      pk.user.id = toBuffer(pk.user.id);
      decodeIDs(pk.excludeCredentials);
    } else {
      decodeIDs(pk.allowCredentials);
    }
    return { publicKey: pk };
  }

  // answer is the credential as JSON, binary fields in base64url.
  function answer(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toBase64URL(cred.rawId),
      type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64URL(r.clientDataJSON) }
    };
    if (cred.authenticatorAttachment) {
      out.authenticatorAttachment = cred.authenticatorAttachment;
    }
    if (mode === "create") {
      out.response.attestationObject = toBase64URL(r.attestationObject);
      if (r.getTransports) {
        out.response.transports = r.getTransports();
      }
    } else {
      out.response.authenticatorData = toBase64URL(r.authenticatorData);
      out.response.signature = toBase64URL(r.signature);
      if (r.userHandle) {
        out.response.userHandle = toBase64URL(r.userHandle);
      }
    }
    return JSON.stringify(out);
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (busy) {
      return;
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      show("unsupported");
      return;
    }
    var opts;
    try {
      opts = options();
    } catch (e) {
      show("refused");
      return;
    }
    busy = true;
    errorLine.hidden = true;
    var asked = mode === "create" ? navigator.credentials.create(opts) : navigator.credentials.get(opts);
    asked.then(function (cred) {
      form.elements.response.value = answer(cred);
      form.submit();
    }, function (err) {
      busy = false;
      var name = err && err.name;
      if (name === "InvalidStateError") {
        show("exists");
      } else if (name === "SecurityError") {
        show("refused");
      } else {
        show("cancelled");
      }
    });
  });
})();
