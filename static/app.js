/* Progressive enhancement only: the site works without this file. */
(function () {
  "use strict";

  // After htmx swaps a step in, move focus to what changed: the error summary or a
  // notification, else the heading. Scroll to the top first, so that on a phone the back
  // link and the progress above the heading are in view too.
  // A part of the page swapped on its own (a page of a long list) takes the focus itself.
  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.detail.target;
    if (!swapped || !swapped.id) return;
    if (swapped.id !== "main") {
      if (swapped.tagName === "TR") dropStaleSummaryLinks();
      // A row or a list: its errors, else what asked to be focused (the row's edit link
      // after Save or Cancel), else its first field (a row opened for editing), else itself.
      var part = document.getElementById(swapped.id);
      if (!part) return;
      // Someone typing in a filter above the list keeps their place.
      var active = document.activeElement;
      if (active && active.tagName === "INPUT" && !part.contains(active)) return;
      // Not into a row kept open while the list around it was filtered or paged.
      var inside = Array.prototype.filter.call(
        part.querySelectorAll(".error-summary, [data-focus], input:not([type=hidden])"), function (element) {
          var row = element.closest(".contact-row--editing");
          return !row || row === part;
        })[0];
      if (inside) inside.focus();
      else if (part.hasAttribute("tabindex")) {
        // A new page of a list is read from its top (focus alone would not scroll a list whose
        // bottom, where its page links are, is in view).
        part.scrollIntoView({ block: "start" });
        part.focus({ preventScroll: true });
      }
      return;
    }
    var target = document.querySelector("#main .error-summary, #main .notification") ||
      document.querySelector("#main h1");
    if (target) {
      window.scrollTo(0, 0);
      target.setAttribute("tabindex", "-1");
      target.focus({ preventScroll: true });
    }
  });

  // Step 6's rows with something typed and not saved stay open, as they are, when the table is
  // filtered or paged or the whole page comes back; and Doorgaan or a bulk button waits for them. The
  // server is told which (the first changed field of each), sends them back marked hx-preserve, so
  // that htmx keeps the page's own, and refuses an action on the whole table while there are any
  // (routes/steps/contacts.py, unsaved_rows).
  document.addEventListener("htmx:configRequest", function (event) {
    var target = event.detail.target;
    if (!target || (target.id !== "contact-rows" && target.id !== "main")) return;
    var unsaved = [];
    Array.prototype.forEach.call(document.querySelectorAll("#contact-rows tr.contact-row--editing form[method=post]"),
      function (form) {
        var field = Array.prototype.filter.call(form.elements, function (element) {
          return typeable(element) && changed(element);
        })[0];
        if (field && field.id) unsaved.push(encodeURIComponent(field.id));
      });
    if (unsaved.length) event.detail.headers["X-Aansluiten-Unsaved-Rows"] = unsaved.join(" ");
  });

  // The page's error summary leads to what was wrong (step 6: a row without a contact, a row with
  // unsaved typing). Once a row swapped alone has put that right (saved or cancelled), its link
  // leads nowhere: it goes, and the summary with its last link. Not for another page of the list,
  // which puts nothing right. Before the row's own error event (HX-Trigger-After-Settle), which then
  // takes "Fout: " off the title.
  function dropStaleSummaryLinks() {
    var summary = document.querySelector("#step-errors .error-summary");
    if (!summary) return;
    var links = summary.querySelectorAll("a[href^='#']");
    if (!links.length) return;
    Array.prototype.forEach.call(links, function (link) {
      var id = decodeURIComponent(link.getAttribute("href").slice(1));
      if (!document.getElementById(id)) link.closest("li").remove();
    });
    if (!summary.querySelector("a[href^='#']")) summary.remove();
  }

  // A part of the page swapped alone (a row, a filtered list) says what happened through an
  // event, since nothing may stand beside a table row in its answer.
  document.body.addEventListener("aansluiten:announce", function (event) {
    var status = document.getElementById("status");
    if (status) status.textContent = event.detail.value;
  });
  // ... and whether it now shows an error: "Fout: " before the page's title once, as long as the
  // part or another error of the page (its summary, another row's) shows one.
  document.body.addEventListener("aansluiten:error", function (event) {
    var prefix = event.detail.prefix + ": ";
    var title = document.title;
    while (title.indexOf(prefix) === 0) title = title.slice(prefix.length);
    var shown = event.detail.shown || document.querySelector("#main .error-summary");
    document.title = (shown ? prefix : "") + title;
  });

  // The language switch is a link: what was typed on the page and not yet sent would be lost
  // with it. It is kept for the page in this tab (sessionStorage: gone with the tab) and filled
  // in once the page is back in the other language, the first time only.
  var TYPED = "aansluiten:typed";
  function typeable(field) {
    return /^(INPUT|TEXTAREA|SELECT)$/.test(field.tagName) && !!field.name &&
      !/^(hidden|file|password|submit|button)$/.test(field.type);
  }
  function typedFields() {
    // Not a GET form's (a filter, step 4's choice): what it asked is in the URL the switch returns to.
    return Array.prototype.filter.call(document.querySelectorAll("#main form[method=post] [name]"), typeable);
  }
  function changed(field) {
    // A form sent back with an error (or kept after the session ended) shows what was typed.
    if (field.form && field.form.hasAttribute("data-typed")) return true;
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") {
      return Array.prototype.some.call(field.options, function (option) { return option.selected !== option.defaultSelected; });
    }
    return field.value !== field.defaultValue;
  }
  function here() { return location.pathname + location.search; }
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".header__language");
    var fields = typedFields();
    var typed = fields.filter(changed)[0];
    if (!link || !typed) return;
    // A form with a page of its own (a row of step 6 being edited) comes back as that page: the
    // table the row is in would come back with the row closed.
    var page = (typed.form && typed.form.getAttribute("data-page")) || here();
    if (page !== here()) {
      fields = fields.filter(function (field) { return field.form === typed.form; });
      link.href = link.pathname + "?next=" + encodeURIComponent(page);
      link.referrerPolicy = "no-referrer";  // the server goes back to the referrer before "next"
    }
    try {
      window.sessionStorage.setItem(TYPED, JSON.stringify({ page: page, fields: snapshot(fields) }));
    } catch (error) { /* storage refused (private mode, full): the link works as before */ }
  });
  // What the page's forms hold that was typed: the changed fields, and the hidden ones of their
  // forms (the version the typing was based on: sent later, a stale answer then meets the server's
  // "changed in the meantime" rather than overwriting what another tab saved).
  function hiddenFields(form) {
    return Array.prototype.filter.call(form.querySelectorAll("input[type=hidden][name]"), function (field) {
      return field.name !== "csrf_token";
    });
  }
  function snapshot(fields) {
    var kept = fields.filter(changed);
    var forms = [];
    kept.forEach(function (field) { if (field.form && forms.indexOf(field.form) < 0) forms.push(field.form); });
    forms.forEach(function (form) { kept = kept.concat(hiddenFields(form)); });
    return kept.map(function (field) {
      return { id: field.id, name: field.name, value: field.value, checked: field.checked };
    });
  }
  function fillIn(saved) {
    var fields = typedFields();
    Array.prototype.forEach.call(document.querySelectorAll("#main form[method=post]"), function (form) {
      fields = fields.concat(hiddenFields(form));
    });
    saved.forEach(function (value) {
      // By its id where it has one (step 6's rows share their fields' names), else by name.
      var field = fields.filter(function (candidate) {
        if (value.id || candidate.id) return candidate.id === value.id && candidate.name === value.name;
        return candidate.name === value.name &&
          (!/^(checkbox|radio)$/.test(candidate.type) || candidate.value === value.value);
      }).shift();
      if (!field) return;
      fields.splice(fields.indexOf(field), 1);  // a second field of the same name takes the next value
      if (/^(checkbox|radio)$/.test(field.type)) field.checked = value.checked;
      else field.value = value.value;
    });
  }
  (function fillInTyped() {
    var kept;
    try {
      kept = JSON.parse(window.sessionStorage.getItem(TYPED) || "null");
      window.sessionStorage.removeItem(TYPED);
    } catch (error) { return; }
    if (kept && kept.page === here()) fillIn(kept.fields);
  })();

  // Back and Forward: answers are never cached (no-store), so the browser loads a page again,
  // without what was typed on it and not sent. What a page held when the browser left it other
  // than by sending a form (a link, Back, Forward) is kept for that page in this tab, and filled
  // in when the browser comes back to it through its history (Back, Forward; or htmx's reload
  // for them). Any other visit of the page drops it (the server's answers are newer; a reload
  // shows the page as it is); so does a page without a session (logged out: the next person at
  // this tab starts empty).
  var LEFT = "aansluiten:left";
  var LEFT_PAGES = 5;
  var shown = here();  // the page on screen: location moves before popstate's listeners run
  var sending = false;
  function leftPages() {
    try { return JSON.parse(window.sessionStorage.getItem(LEFT) || "{}") || {}; } catch (error) { return {}; }
  }
  function keepLeft(pages) {
    try {
      if (Object.keys(pages).length) window.sessionStorage.setItem(LEFT, JSON.stringify(pages));
      else window.sessionStorage.removeItem(LEFT);
    } catch (error) { /* storage refused: as without this */ }
  }
  function arrived(path, throughHistory) {
    var pages = leftPages();
    var saved = pages[path];
    if (!saved) return;
    delete pages[path];
    keepLeft(pages);
    if (throughHistory) fillIn(saved);
  }
  // A form sent leaves the page with what it sent, not for the history; with htmx the page stays.
  document.addEventListener("submit", function () { sending = true; });
  document.addEventListener("htmx:afterRequest", function () { sending = false; });
  function keepTyped(path) {
    var fields = typedFields();
    if (sending || !fields.some(changed)) return;
    var pages = leftPages();
    delete pages[path];
    pages[path] = snapshot(fields);
    var paths = Object.keys(pages);
    paths.slice(0, Math.max(0, paths.length - LEFT_PAGES)).forEach(function (page) { delete pages[page]; });
    keepLeft(pages);
  }
  window.addEventListener("pagehide", function () { keepTyped(shown); });
  // Left by an htmx link ("Vorige", a page of a list): no pagehide, the page is swapped.
  document.body.addEventListener("htmx:beforeHistorySave", function (event) {
    keepTyped(event.detail.path.split("#")[0]);
  });
  function moved(event) {
    shown = event.detail.path.split("#")[0];
    arrived(shown, false);
  }
  document.body.addEventListener("htmx:pushedIntoHistory", moved);
  document.body.addEventListener("htmx:replacedInHistory", moved);
  // Back or Forward to a page htmx showed: htmx reloads it (its history cache is off). That
  // reload is the history's, not the applicant's: noted for the page it loads.
  var HISTORY_RELOAD = "aansluiten:history-reload";
  window.addEventListener("popstate", function () {
    if (here() === shown) return;  // a link within the page (#field)
    try { window.sessionStorage.setItem(HISTORY_RELOAD, here()); } catch (error) { /* as without */ }
  });
  (function () {
    var reloadedFor = null;
    try {
      reloadedFor = window.sessionStorage.getItem(HISTORY_RELOAD);
      window.sessionStorage.removeItem(HISTORY_RELOAD);
    } catch (error) { /* storage refused */ }
    if (!document.body.hasAttribute("data-session-timeout")) { keepLeft({}); return; }
    var navigation = window.performance && performance.getEntriesByType &&
      performance.getEntriesByType("navigation")[0];
    var type = navigation ? navigation.type : "";
    arrived(here(), type === "back_forward" || (type === "reload" && reloadedFor === here()));
  })();

  // Warn before the idle session ends, with a button to stay. Closing the warning any
  // other way (Escape) counts as staying too: nobody should lose what they are typing
  // because they dismissed a dialog. Once the session has ended the dialog says so instead
  // of counting down, and closing it leaves the page as it is, to copy what was typed.
  var body = document.body;
  var timeout = Number(body.getAttribute("data-session-timeout") || 0);
  var warnBefore = Number(body.getAttribute("data-session-warning") || 120);
  var dialog = document.getElementById("session-warning");
  if (!timeout || !dialog || typeof dialog.showModal !== "function") return;
  var timer = null;
  var ending = null;
  var ended = false;
  // Count down the seconds the session lasts (a whole timeout after a request of this page):
  // the warning comes warnBefore seconds before the end, and at the end the server is asked.
  function arm(lasts) {
    if (ended) return;
    if (lasts === undefined) lasts = timeout;
    window.clearTimeout(timer);
    window.clearTimeout(ending);
    if (lasts > warnBefore) {
      timer = window.setTimeout(function () { dialog.showModal(); }, (lasts - warnBefore) * 1000);
    } else if (!dialog.open) {
      dialog.showModal();
    }
    ending = window.setTimeout(end, (lasts + 1) * 1000);
  }
  // The keep-alive URL answers 204 with the seconds the session still lasts while it lasts,
  // else a redirect to the page that says it ended (not followed: the server leaves ending it
  // to the applicant's next request). Resolves to those seconds, or null once it has ended.
  function ask(headers) {
    return fetch(dialog.getAttribute("data-keep-alive"), {
      credentials: "same-origin", redirect: "manual", headers: headers || {}
    }).then(function (response) {
      if (response.status !== 204) return null;
      var left = response.headers.get("X-Session-Remaining");
      return left === null ? timeout : Number(left);
    });
  }
  function showEnded() {
    ended = true;
    dialog.querySelector('[data-part="warning"]').hidden = true;
    var part = dialog.querySelector('[data-part="ended"]');
    part.hidden = false;
    dialog.setAttribute("aria-labelledby", "session-ended-title");
    dialog.setAttribute("aria-describedby", "session-ended-text");
    if (!dialog.open) dialog.showModal();
    part.querySelector("a").focus();
  }
  function end() {
    // Asked without counting as activity (as a polling page asks). Another tab may have kept the
    // session alive: then this one's warning is out of date, and the countdown starts again from
    // what the server says. Or the session lasts a few seconds more than the page counted (the
    // server moves its clock once a minute): the warning stays until it has ended.
    ask({ "X-Aansluiten-Poll": "1" }).then(function (lasts) {
      if (lasts === null) { showEnded(); return; }
      if (lasts > warnBefore && dialog.open) dialog.close();
      arm(lasts);
    });
  }
  function stay() {
    ask().then(function (lasts) {
      if (lasts === null) { showEnded(); return; }  // too late: say so, and leave the page as it is
      if (dialog.open) dialog.close();
      arm();
    });
  }
  dialog.querySelector('[data-part="warning"] button').addEventListener("click", stay);
  dialog.querySelector("[data-close]").addEventListener("click", function () { dialog.close(); });
  dialog.addEventListener("cancel", function (event) {
    event.preventDefault();
    dialog.close();
    if (!ended) stay();  // which says so when the session has ended meanwhile
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    // A page polling for news (the status page) is not the applicant at work: the server
    // does not count it either.
    var headers = event.detail.requestConfig && event.detail.requestConfig.headers;
    if (headers && headers["X-Aansluiten-Poll"]) return;
    arm();
  });
  arm();
})();
