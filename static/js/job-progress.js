// A background job's page: asks the API for progress every few seconds and updates the bar,
// the counts and the elapsed time; when the job changes state or step, reloads the page so the
// server renders the new state (its result, its reason, its buttons) in the reader's language.
(() => {
  const root = document.getElementById("job");
  if (!root) return;
  const active = ["queued", "running"];
  if (!active.includes(root.dataset.jobState)) return;
  const numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
  const seconds = Number(root.dataset.poll || 2) * 1000;
  const pad = (n) => String(n).padStart(2, "0");
  const clock = (s) => `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
  const set = (selector, text) => {
    const node = root.querySelector(selector);
    if (node) node.textContent = text;
  };
  // The reload link and the no-script refresh are for browsers without this script.
  const reload = root.querySelector("[data-job-reload]");
  if (reload) reload.hidden = true;

  async function poll() {
    let job;
    try {
      const response = await fetch(root.dataset.jobUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      job = await response.json();
    } catch (error) {
      if (reload) reload.hidden = false;
      window.setTimeout(poll, seconds * 2);
      return;
    }
    if (job.state !== root.dataset.jobState || (job.step || "") !== root.dataset.jobStep) {
      window.location.reload();
      return;
    }
    const bar = root.querySelector("[data-job-progress]");
    if (bar) {
      bar.value = job.percent;
      bar.textContent = `${job.percent}%`;
    }
    set("[data-job-percent]", `${job.percent}%`);
    set("[data-job-done]", numbers.format(job.done));
    set("[data-job-total]", numbers.format(job.total));
    set("[data-job-elapsed]", clock(job.elapsed_seconds));
    window.setTimeout(poll, seconds);
  }
  window.setTimeout(poll, seconds);
})();
