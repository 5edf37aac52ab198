// While a large CSV import runs, say so and stop a second click.
(function () {
  var form = document.getElementById("confirm-import");
  if (!form) { return; }
  form.addEventListener("submit", function () {
    document.getElementById("confirm-button").disabled = true;
    document.getElementById("import-progress").hidden = false;
  });
})();
