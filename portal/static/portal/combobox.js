/* Accessible search combo box for selects marked `portal-search-select` (vendors/widgets.py).
   ARIA 1.2 combobox pattern: a text input (role=combobox) controls a listbox of results fetched
   from the select's data-search-url as the person types; arrow keys move through the results,
   Enter chooses, Escape closes; the number of results is announced in a polite live region.
   The original select stays in the form (hidden) and carries the chosen value. No inline script
   or style: the Content-Security-Policy allows neither. */
(function () {
  "use strict";
  var counter = 0;

  function enhance(select) {
    counter += 1;
    var id = select.id || "portal-combobox-" + counter;
    var listId = id + "-list";
    var statusId = id + "-status";
    var wrapper = document.createElement("div");
    wrapper.className = "portal-combobox";
    var input = document.createElement("input");
    input.type = "text";
    input.className = "usa-input usa-combo-box__input portal-combobox__input";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("autocomplete", "off");
    if (select.getAttribute("aria-describedby")) {
      input.setAttribute("aria-describedby", select.getAttribute("aria-describedby"));
    }
    if (select.getAttribute("aria-invalid")) {
      // The error belongs to what the person types in now; the hidden select only carries the value.
      input.setAttribute("aria-invalid", select.getAttribute("aria-invalid"));
      select.removeAttribute("aria-invalid");
    }
    input.setAttribute("data-field", select.name); // which form field this is, for tests and tools
    var chosen = select.options[select.selectedIndex];
    if (chosen && chosen.value) { input.value = chosen.text; }
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "usa-combo-box__list portal-combobox__list";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    var status = document.createElement("div");
    status.id = statusId;
    status.className = "usa-sr-only";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");

    // The label names the input now: it takes the select's id, the select a new one.
    select.id = id + "-value";
    input.id = id;
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    select.parentNode.insertBefore(wrapper, select);
    wrapper.appendChild(input);
    wrapper.appendChild(list);
    wrapper.appendChild(status);
    wrapper.appendChild(select);

    var results = [];
    var active = -1;
    var timer = null;
    var lastQuery = null;
    var url = select.getAttribute("data-search-url");

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var items = list.querySelectorAll("[role=option]");
      for (var i = 0; i < items.length; i += 1) {
        var on = i === index;
        items[i].classList.toggle("usa-combo-box__list-option--focused", on);
        items[i].setAttribute("aria-selected", on ? "true" : "false");
      }
      active = index;
      if (index >= 0 && items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var result = results[index];
      if (!result) { return; }
      var value = String(result.id);
      var option = null;
      for (var i = 0; i < select.options.length; i += 1) {
        if (select.options[i].value === value) { option = select.options[i]; }
      }
      if (!option) {
        option = document.createElement("option");
        option.value = value;
        option.text = result.text;
        select.appendChild(option);
      }
      select.value = value;
      input.value = result.text;
      status.textContent = result.text + " chosen.";
      clearTimeout(timer); // a search still waiting for its keystroke's pause is not wanted now
      close();
    }

    function render() {
      list.textContent = "";
      results.forEach(function (result, index) {
        var item = document.createElement("li");
        item.id = listId + "-" + index;
        item.className = "usa-combo-box__list-option";
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = result.text;
        item.addEventListener("mousedown", function (event) { event.preventDefault(); });
        item.addEventListener("click", function () { choose(index); });
        list.appendChild(item);
      });
      if (!results.length) {
        var none = document.createElement("li");
        none.className = "usa-combo-box__list-option--no-results";
        none.textContent = "No match. Check the spelling, or register the customer first.";
        list.appendChild(none);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      status.textContent = results.length
        ? results.length + " result" + (results.length === 1 ? "" : "s") + " available. Use the arrow keys to choose."
        : "No results.";
      active = -1;
    }

    function search() {
      var query = input.value.trim();
      if (query === lastQuery && !list.hidden) { return; }
      lastQuery = query;
      var address = url + (url.indexOf("?") >= 0 ? "&" : "?") + "q=" + encodeURIComponent(query);
      fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : { results: [] }; })
        .then(function (data) {
          if (input.value.trim() !== query) { return; } // a later keystroke wins
          if (document.activeElement !== input) { return; } // the person has moved on
          results = data.results || [];
          render();
        })
        .catch(function () { status.textContent = "The search did not answer. Try again."; });
    }

    input.addEventListener("input", function () {
      select.value = ""; // typing clears the choice until a result is chosen
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    input.addEventListener("focus", function () { if (!input.value) { search(); } });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (list.hidden) { search(); return; }
        highlight(Math.min(active + 1, results.length - 1));
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter") {
        if (!list.hidden && active >= 0) { event.preventDefault(); choose(active); }
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () {
      clearTimeout(timer);
      setTimeout(close, 150);
    });
  }

  function init() {
    var selects = document.querySelectorAll("select.portal-search-select[data-search-url]");
    for (var i = 0; i < selects.length; i += 1) { enhance(selects[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
