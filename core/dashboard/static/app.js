// berth dashboard: a little progressive enhancement. Every page works
// without this file; with it, actions ask for confirmation in place,
// secrets can be revealed, and a running deployment's log streams live.
"use strict";
(function () {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // api calls the REST API with the session cookie and the page's CSRF
  // token (needed on unsafe methods), answering the decoded JSON.
  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrf();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const resp = await fetch("/api/v1" + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await resp.text();
    const data = text ? JSON.parse(text) : null;
    if (!resp.ok) {
      const err = new Error((data && data.error && data.error.message) || resp.statusText);
      err.status = resp.status;
      throw err;
    }
    return data;
  }
  window.berth = { api };

  // Forms with data-confirm ask first; the server then skips its own
  // confirmation page because confirmed=yes is sent.
  document.addEventListener("submit", (e) => {
    const form = e.target;
    const question = form.getAttribute("data-confirm");
    if (!question) return;
    if (!window.confirm(question)) {
      e.preventDefault();
      return;
    }
    const confirmed = form.querySelector('input[name="confirmed"]');
    if (confirmed) confirmed.value = "yes";
  });

  // Reveal toggles for masked values.
  document.addEventListener("click", (e) => {
    const btn = e.target.closest("[data-reveal]");
    if (!btn) return;
    const input = btn.parentElement.querySelector("input");
    const show = input.type === "password";
    input.type = show ? "text" : "password";
    btn.textContent = show ? "Hide" : "Show";
    btn.setAttribute("aria-pressed", String(show));
  });

  // Select a freshly created token on focus, for copying.
  document.querySelectorAll("[data-select]").forEach((el) => {
    el.addEventListener("focus", () => el.select());
  });

  // Show only the fields of the chosen source (git or image).
  document.querySelectorAll("[data-source-form]").forEach((form) => {
    const update = () => {
      const chosen = (form.querySelector('input[name="source_type"]:checked') || {}).value || "git";
      form.querySelectorAll("[data-source]").forEach((el) => {
        el.hidden = el.getAttribute("data-source") !== chosen;
      });
    };
    form.addEventListener("change", update);
    update();
  });

  // Show only the credential fields of the chosen kind (git connections).
  document.querySelectorAll("[data-cred-form]").forEach((form) => {
    const update = () => {
      const chosen = (form.querySelector('input[name="credential_kind"]:checked') || {}).value || "token";
      form.querySelectorAll("[data-cred]").forEach((el) => {
        el.hidden = el.getAttribute("data-cred") !== chosen;
      });
    };
    form.addEventListener("change", update);
    update();
  });

  // Long actions (deploying a database, a restore, a destination test)
  // show that they are under way: the button is disabled and relabelled
  // until the server answers with the next page.
  document.addEventListener("submit", (e) => {
    const form = e.target;
    const label = form.getAttribute("data-pending");
    if (!label || e.defaultPrevented) return;
    const btn = form.querySelector('button[type="submit"]');
    if (!btn) return;
    // Disable after the browser has collected the form, not before.
    setTimeout(() => {
      btn.disabled = true;
      btn.textContent = label;
      btn.setAttribute("aria-busy", "true");
    }, 0);
  });

  // Sections with data-refresh (a backup in progress) reload themselves
  // from the server every few seconds until they no longer ask to.
  document.querySelectorAll("[data-refresh]").forEach((section) => {
    const every = Number(section.getAttribute("data-refresh")) || 3000;
    const tick = async () => {
      try {
        const resp = await fetch(window.location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } });
        if (resp.ok) {
          const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
          const fresh = doc.getElementById(section.id);
          if (fresh) {
            section.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)));
            if (!fresh.hasAttribute("data-refresh")) {
              section.removeAttribute("data-refresh");
              // The restore list and state depend on finished backups.
              ["restore", "db-state"].forEach((id) => {
                const mine = document.getElementById(id), theirs = doc.getElementById(id);
                if (mine && theirs) mine.replaceWith(document.importNode(theirs, true));
              });
              return;
            }
          }
        }
      } catch (err) { /* try again */ }
      setTimeout(tick, every);
    };
    setTimeout(tick, every);
  });

  // Runtime logs (issue 17, logs): the page shows the latest lines; the
  // API's server-sent events (same filters) send them again, then new ones
  // as they are printed: the first event replaces the rendered lines. An
  // EventSource reconnects by itself and resumes after its last line.
  const rlog = document.getElementById("runtime-log");
  if (rlog) {
    rlog.scrollTop = rlog.scrollHeight;
    if (rlog.dataset.stream && window.EventSource) {
      const state = document.getElementById("runtime-log-state");
      let lines = rlog.children.length;
      let replaced = false;
      const es = new EventSource(rlog.dataset.stream);
      es.onopen = () => { if (state) state.textContent = lines + " lines · following live"; };
      es.onerror = () => { if (state) state.textContent = lines + " lines · reconnecting…"; };
      es.addEventListener("failed", () => { es.close(); if (state) state.textContent = lines + " lines · the Docker Engine stopped sending; reload to try again"; });
      es.addEventListener("log", (e) => {
        const l = JSON.parse(e.data);
        if (!replaced) { replaced = true; rlog.replaceChildren(); lines = 0; }
        const atBottom = rlog.scrollTop + rlog.clientHeight >= rlog.scrollHeight - 40;
        const div = document.createElement("div");
        div.className = l.stream === "stderr" ? "l err" : "l";
        const meta = document.createElement("span");
        meta.className = "lt";
        meta.title = l.time + " · task " + l.task_id + " · node " + l.node_id;
        meta.textContent = new Date(l.time).toISOString().slice(11, 23) + " " + l.slot + "." + (l.task_id || "?").slice(0, 6) + " ";
        div.append(meta, document.createTextNode(l.text));
        rlog.appendChild(div);
        if (rlog.children.length > 5000) rlog.firstElementChild.remove(); // bounded page memory
        const empty = document.getElementById("runtime-log-empty");
        if (empty) empty.remove();
        lines++;
        rlog.dataset.streamed = String(Number(rlog.dataset.streamed || 0) + 1); // lines from the stream
        if (state) state.textContent = lines + " lines · following live";
        if (atBottom) rlog.scrollTop = rlog.scrollHeight;
      });
    }
  }

  const log = document.getElementById("log");
  if (log) {
    log.scrollTop = log.scrollHeight;
    if (log.dataset.follow === "true") follow(log);
  }

  // follow appends a running deployment's log lines as they are written
  // (server-sent events from the API, or polling when the server does not
  // stream), keeps the steps and status current, and reloads the page
  // once the deployment has finished.
  function follow(log) {
    const id = log.dataset.deployment;
    let last = Number(log.dataset.after) || 0;
    let streamed = 0;
    let done = false;
    const state = document.getElementById("log-state");

    const append = (line) => {
      if (line.seq <= last) return; // a reconnect repeats lines
      last = line.seq;
      const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 40;
      const div = document.createElement("div");
      div.className = line.stream === "stderr" ? "l err" : "l";
      div.textContent = line.line;
      log.appendChild(div);
      streamed++;
      log.dataset.streamed = String(streamed);
      if (atBottom) log.scrollTop = log.scrollHeight;
    };
    const finish = () => {
      if (done) return;
      done = true;
      if (state) state.textContent = "finished";
      setTimeout(() => window.location.reload(), 700);
    };

    if (log.dataset.live === "true" && window.EventSource) {
      const es = new EventSource(`/api/v1/deployments/${id}/logs?follow=true&after=${last}`);
      es.addEventListener("log", (e) => append(JSON.parse(e.data)));
      es.addEventListener("end", () => { es.close(); finish(); });
    } else {
      const poll = async () => {
        try {
          const page = await api("GET", `/deployments/${id}/logs?after=${last}`);
          page.items.forEach(append);
          if (page.finished) return finish();
        } catch (err) { /* try again */ }
        setTimeout(poll, 1000);
      };
      poll();
    }

    // Steps and status, every two seconds.
    const steps = document.getElementById("steps");
    const status = document.getElementById("dep-status");
    const badge = (s) => {
      const span = document.createElement("span");
      span.className = "badge s-" + s;
      span.textContent = s;
      return span;
    };
    const human = (ms) => ms < 1000 ? ms + " ms" : ms < 60000 ? (ms / 1000).toFixed(1) + " s" :
      Math.floor(ms / 60000) + " min " + Math.floor(ms % 60000 / 1000) + " s";
    const refresh = async () => {
      if (done) return;
      try {
        const d = await api("GET", `/deployments/${id}`);
        if (status) status.replaceChildren(badge(d.status));
        if (steps && d.steps && d.steps.length) {
          steps.replaceChildren(...d.steps.map((s) => {
            const tr = document.createElement("tr");
            const name = document.createElement("td");
            name.textContent = s.name;
            const st = document.createElement("td");
            st.appendChild(badge(s.status));
            const t = document.createElement("td");
            t.className = "num";
            t.textContent = s.finished_at ? human(s.duration_ms || 0) : human(Date.now() - Date.parse(s.started_at)) + " so far";
            tr.append(name, st, t);
            return tr;
          }));
        }
        if (["succeeded", "failed", "cancelled"].includes(d.status)) {
          setTimeout(finish, 3000); // let the last log lines arrive first
          return;
        }
      } catch (err) { /* try again */ }
      setTimeout(refresh, 2000);
    };
    setTimeout(refresh, 1000);
  }
})();
