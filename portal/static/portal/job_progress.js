// The progress of a background job, polled from its status address while it runs; the page
// reloads once the job has ended, to show the result. Without JavaScript the page offers a
// refresh link instead (#job-refresh), which this hides.
(function () {
  var job = document.getElementById("job");
  if (!job || job.getAttribute("data-active") !== "true") { return; }
  var url = job.getAttribute("data-status-url");
  var every = parseInt(job.getAttribute("data-poll-ms"), 10) || 1000;
  var bar = document.getElementById("job-progress");
  var count = document.getElementById("job-count");
  var status = document.getElementById("job-status");
  var phase = document.getElementById("job-phase");
  var refresh = document.getElementById("job-refresh");
  var failures = 0;
  if (refresh) { refresh.hidden = true; }

  function number(n) { return n.toLocaleString("en-US"); }

  function show(state) {
    bar.max = Math.max(state.total, 1);
    bar.value = state.done;
    bar.textContent = state.percent + "%";
    count.textContent = number(state.done) + " of " + number(state.total);
    if (status.textContent !== state.status_label) { status.textContent = state.status_label; }
    if (phase.textContent !== (state.phase ? ": " + state.phase : "")) {
      phase.textContent = state.phase ? ": " + state.phase : "";
    }
  }

  function poll() {
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.setRequestHeader("Accept", "application/json");
    request.onload = function () {
      if (request.status !== 200) { return retry(); }
      failures = 0;
      var state = JSON.parse(request.responseText);
      show(state);
      if (state.finished) { window.location.reload(); return; }
      window.setTimeout(poll, every);
    };
    request.onerror = retry;
    request.send();
  }

  function retry() {
    failures += 1;
    if (failures > 5 && refresh) { refresh.hidden = false; return; }
    window.setTimeout(poll, every * failures);
  }

  window.setTimeout(poll, every);
})();
