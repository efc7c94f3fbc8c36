// The facestyle page: a client of the same-origin API, written for it (no framework, no build step).
"use strict";

const $ = (sel) => document.querySelector(sel);
const KEY_STORAGE = "facestyle.apiKey";

// The API's error codes, in words. The API's own message is shown under them.
const WORDS = {
  empty_file: "The file is empty.",
  not_an_image: "That file is not a picture. Use a PNG, JPEG or WebP image.",
  corrupt_image: "The picture is damaged and could not be read.",
  too_large: "The file is too large for this service.",
  too_many_pixels: "The picture has too many pixels for this service. Use a smaller one.",
  too_long: "The video is too long for this service.",
  no_face: "No face was found in the photo.",
  no_landmarks: "No face was found in the reference picture, so it cannot make a style. Use a picture that shows a face.",
  style_not_found: "That style does not exist (any more).",
  no_reference: "This style has no reference picture.",
  style_outdated: "This style was made by an older version. Register it again from its picture.",
  style_model_mismatch: "This style was made for another model than the one this service runs.",
  builtin_style: "The photo style is built in and cannot be deleted.",
  not_ready: "Not ready yet.",
  video_not_found: "That video does not exist (any more).",
  no_video_stream: "That file has no video in it.",
  corrupt_video: "The video could not be read.",
  bad_format: "That output format is not supported.",
  invalid_field: "A setting has a value the service does not accept.",
  missing_field: "Something the service needs is missing.",
  unauthorized: "This service needs an API key. Enter yours under \"API key\" at the top.",
  rate_limited: "Too many requests. Wait a moment and try again.",
  overloaded: "The service is busy. Try again in a moment.",
  style_corrupt: "This style's stored data is damaged. Delete it and register it again.",
  unavailable: "The service is busy or its store is unavailable. Try again in a moment.",
  internal_error: "The service failed unexpectedly.",
  network: "The service could not be reached.",
  video_failed: "The video could not be stylized.",
  camera: "The webcam is not available.",
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function apiKey() {
  return localStorage.getItem(KEY_STORAGE) || "";
}

async function api(path, opts = {}, attempt = 1) {
  const headers = new Headers(opts.headers || {});
  if (apiKey()) headers.set("X-API-Key", apiKey());
  let resp;
  try {
    resp = await fetch(path, { ...opts, headers });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "network", String(err.message || err));
  }
  const wait = Number(resp.headers.get("Retry-After"));
  if (resp.status === 503 && attempt < 4 && wait > 0 && wait <= 5) {
    // overloaded or briefly unavailable: refused before anything ran, so sending it again is safe
    await new Promise((r) => setTimeout(r, wait * 1000));
    if (opts.signal?.aborted) throw new DOMException("aborted", "AbortError");
    return api(path, opts, attempt + 1);
  }
  if (!resp.ok) {
    let code = "http_" + resp.status, message = resp.statusText;
    try {
      const body = await resp.json();
      code = body.error || code;
      message = body.message || message;
    } catch (_) { /* not JSON: keep the status */ }
    throw new ApiError(resp.status, code, message);
  }
  return resp;
}

function showError(box, err) {
  box.textContent = "";
  if (!err) return;
  const words = WORDS[err.code] || "The request failed.";
  box.append(words);
  if (err.message && err.message !== words) {
    const detail = document.createElement("span");
    detail.className = "detail";
    detail.textContent = err.message + (err.code ? ` (${err.code})` : "");
    box.append(detail);
  }
  box.dataset.code = err.code || "";
  if (err.code === "unauthorized") $("#key-box").open = true;
}

function clearError(box) {
  box.textContent = "";
  box.dataset.code = "";
}

// ---------------------------------------------------------------- tabs
function setupTabs() {
  const tabs = [...document.querySelectorAll("[role=tab]")];
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", on);
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (tab.id !== "tab-live") live.stop();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      next.focus();
      select(next);
    });
  });
}

// ---------------------------------------------------------------- styles
const styles = {
  list: [],
  selected: "photo",
  thumbs: new Map(), // id -> object URL of its reference thumbnail
  pollTimer: null,
  pending: null, // the id just registered, whose progress the form reports
};

function statusText(s) {
  if (s.status === "ready") return "ready";
  if (s.status === "failed") return "failed" + (s.error ? ": " + s.error : "");
  if (s.status === "adapting") return `adapting ${Math.round(s.progress * 100)}%`;
  return s.status;
}

async function loadThumb(id, img) {
  if (styles.thumbs.has(id)) {
    img.src = styles.thumbs.get(id);
    return;
  }
  try {
    // fetched rather than linked so that the API key header goes with it
    const resp = await api(`/styles/${encodeURIComponent(id)}/reference?size=256`);
    const url = URL.createObjectURL(await resp.blob());
    styles.thumbs.set(id, url);
    img.src = url;
  } catch (_) {
    img.alt = "(no reference picture)";
  }
}

function renderGallery() {
  const ul = $("#gallery");
  const byId = new Map([...ul.children].map((li) => [li.dataset.id, li]));
  const keep = new Set(styles.list.map((s) => s.id));
  for (const [id, li] of byId) if (!keep.has(id)) li.remove();
  if (!keep.has(styles.selected)) styles.selected = "photo";
  styles.list.forEach((s, i) => {
    let li = byId.get(s.id);
    if (!li) {
      li = document.createElement("li");
      li.className = "style-card";
      li.dataset.id = s.id;
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "style";
      input.id = "style-" + s.id;
      input.value = s.id;
      input.addEventListener("change", () => {
        styles.selected = s.id;
        syncStyleSelects();
        photo.run();
      });
      const label = document.createElement("label");
      label.htmlFor = input.id;
      let thumb;
      if (s.id === "photo") {
        thumb = document.createElement("span");
        thumb.className = "thumb photo-thumb";
        thumb.textContent = "no style: faces restored";
      } else {
        thumb = document.createElement("img");
        thumb.className = "thumb";
        thumb.alt = "";
        thumb.width = 96;
        thumb.height = 96;
        loadThumb(s.id, thumb);
      }
      const name = document.createElement("span");
      name.className = "style-name";
      const status = document.createElement("span");
      status.className = "style-status";
      const progress = document.createElement("progress");
      progress.max = 1;
      label.append(thumb, name, status, progress);
      li.append(input, label);
      if (s.id !== "photo") {
        const del = document.createElement("button");
        del.type = "button";
        del.className = "delete";
        del.textContent = "\u00d7";
        del.addEventListener("click", () => deleteStyle(s));
        li.append(del);
      }
      ul.insertBefore(li, ul.children[i] || null);
    }
    li.querySelector(".style-name").textContent = s.name;
    li.querySelector(".style-name").title = s.name;
    const status = li.querySelector(".style-status");
    status.textContent = statusText(s);
    status.className = "style-status " + s.status;
    const progress = li.querySelector("progress");
    progress.value = s.progress;
    progress.hidden = s.status === "ready" || s.status === "failed";
    progress.setAttribute("aria-label", `${s.name}: ${statusText(s)}`);
    const del = li.querySelector(".delete");
    if (del) del.setAttribute("aria-label", `Delete the style ${s.name}`);
    const input = li.querySelector("input");
    input.disabled = s.status === "failed";
    input.checked = s.id === styles.selected;
    li.dataset.status = s.status;
  });
  syncStyleSelects();
}

function syncStyleSelects() {
  for (const sel of document.querySelectorAll(".style-select")) {
    const current = sel.dataset.touched ? sel.value : styles.selected;
    sel.textContent = "";
    for (const s of styles.list) {
      if (s.status === "failed") continue;
      const opt = document.createElement("option");
      opt.value = s.id;
      opt.textContent = s.id === "photo" ? "photo (no style)" : `${s.name} (${statusText(s)})`;
      sel.append(opt);
    }
    sel.value = styles.list.some((s) => s.id === current) ? current : "photo";
  }
}

async function refreshStyles() {
  clearTimeout(styles.pollTimer);
  try {
    const resp = await api("/styles");
    styles.list = await resp.json();
    clearError($("#photo-error"));
  } catch (err) {
    showError($("#photo-error"), err);
    styles.pollTimer = setTimeout(refreshStyles, 5000);
    return;
  }
  renderGallery();
  reportPending();
  // poll while a style adapts, to show its progress
  if (styles.list.some((s) => s.status === "queued" || s.status === "adapting")) {
    styles.pollTimer = setTimeout(refreshStyles, 1000);
  }
}

function reportPending() {
  if (!styles.pending) return;
  const s = styles.list.find((x) => x.id === styles.pending);
  const msg = $("#style-msg");
  if (!s) {
    styles.pending = null;
    return;
  }
  msg.textContent = `${s.name}: ${statusText(s)}` +
    (s.status === "ready" ? "." : s.status === "failed" ? "" : "; photos can use it now, live and video once done");
  if (s.status === "ready" || s.status === "failed") styles.pending = null;
}

async function deleteStyle(s) {
  if (!confirm(`Delete the style "${s.name}"?`)) return;
  try {
    await api(`/styles/${encodeURIComponent(s.id)}`, { method: "DELETE" });
  } catch (err) {
    if (err.code !== "style_not_found") {
      showError($("#photo-error"), err);
      return;
    }
  }
  const url = styles.thumbs.get(s.id);
  if (url) URL.revokeObjectURL(url);
  styles.thumbs.delete(s.id);
  const wasSelected = styles.selected === s.id;
  await refreshStyles();
  $("#result-msg").textContent = `Deleted the style ${s.name}.`;
  if (wasSelected) photo.run();
}

function setupStyleForm() {
  const form = $("#style-form");
  const file = $("#style-file");
  file.addEventListener("change", () => {
    const f = file.files[0];
    if (f && !$("#style-name").value) $("#style-name").value = f.name.replace(/\.[^.]+$/, "").slice(0, 200);
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const msg = $("#style-msg");
    const box = $("#style-error");
    clearError(box);
    const f = file.files[0];
    if (!f) {
      msg.textContent = "";
      showError(box, { code: "missing_field", message: "choose a reference picture first" });
      return;
    }
    const body = new FormData();
    body.append("image", f, f.name);
    if ($("#style-name").value.trim()) body.append("name", $("#style-name").value.trim());
    $("#style-submit").disabled = true;
    msg.textContent = "Uploading and reading the face\u2026";
    try {
      const resp = await api("/styles", { method: "POST", body });
      const made = await resp.json();
      styles.pending = made.id;
      styles.selected = made.id;
      form.reset();
      await refreshStyles();
      photo.run();
    } catch (err) {
      msg.textContent = "";
      showError(box, err);
    } finally {
      $("#style-submit").disabled = false;
    }
  });
}

// ---------------------------------------------------------------- photo
const photo = {
  file: null, // the Blob to stylize
  inputUrl: null,
  resultUrl: null,
  controller: null,
  seq: 0,
  lastParams: null,
  results: new Map(), // format -> Blob, for lastParams

  setInput(blob, name) {
    this.file = blob;
    this.name = name || "photo";
    if (this.inputUrl) URL.revokeObjectURL(this.inputUrl);
    this.inputUrl = URL.createObjectURL(blob);
    const preview = $("#input-preview");
    preview.hidden = false;
    preview.onerror = () => (preview.hidden = true); // not a picture the browser reads: the API says why
    preview.src = this.inputUrl;
    // the last result belongs to the last photo
    for (const id of ["#compare", "#compare-pos", "#downloads"]) $(id).hidden = true;
    $("#result-empty").hidden = false;
    $("#result").dataset.ready = "0";
    $("#drop-hint").textContent = "Drop or paste another photo to replace it.";
    $("#stylize").disabled = false;
    this.run();
  },

  params(format) {
    const fd = new FormData();
    fd.append("image", this.file, this.name);
    fd.append("style", styles.selected);
    fd.append("strength", $("#strength").value);
    fd.append("scale", $("#scale").value);
    fd.append("preserve_color", $("#preserve-color").checked);
    fd.append("keep_faces", $("#keep-faces").checked);
    fd.append("format", format);
    return fd;
  },

  key() {
    return JSON.stringify([this.inputUrl, styles.selected, $("#strength").value, $("#scale").value,
      $("#preserve-color").checked, $("#keep-faces").checked]);
  },

  async run() {
    if (!this.file) return;
    const box = $("#photo-error");
    const msg = $("#result-msg");
    if (this.controller) this.controller.abort(); // only the newest request's answer is shown
    const controller = (this.controller = new AbortController());
    const seq = ++this.seq;
    clearError(box);
    const styleName = (styles.list.find((s) => s.id === styles.selected) || { name: styles.selected }).name;
    msg.textContent = `Stylizing with ${styleName}\u2026`;
    $("#stylize").disabled = true;
    document.querySelector(".area-result").setAttribute("aria-busy", "true");
    const t0 = performance.now();
    try {
      const resp = await api("/stylize", { method: "POST", body: this.params("png"), signal: controller.signal });
      const blob = await resp.blob();
      if (seq !== this.seq) return;
      this.lastParams = this.key();
      this.results = new Map([["png", blob]]);
      if (this.resultUrl) URL.revokeObjectURL(this.resultUrl);
      this.resultUrl = URL.createObjectURL(blob);
      await showResult(this.inputUrl, this.resultUrl, seq);
      const faces = Number(resp.headers.get("X-Faces") || 0);
      const weakened = Number(resp.headers.get("X-Faces-Weakened") || 0);
      const img = $("#result");
      msg.textContent = `${styleName}: ${faces} face${faces === 1 ? "" : "s"}, ` +
        `${img.naturalWidth}\u00d7${img.naturalHeight}, ${((performance.now() - t0) / 1000).toFixed(1)} s` +
        (weakened ? `; ${weakened} made with less of the style so that it stays a face` : "");
    } catch (err) {
      if (err.name === "AbortError" || seq !== this.seq) return;
      msg.textContent = "";
      showError(box, err);
    } finally {
      if (seq === this.seq) {
        $("#stylize").disabled = false;
        document.querySelector(".area-result").setAttribute("aria-busy", "false");
      }
    }
  },

  async download(format) {
    const box = $("#photo-error");
    try {
      let blob = this.lastParams === this.key() ? this.results.get(format) : null;
      if (!blob) {
        $("#result-msg").textContent = `Preparing the ${format.toUpperCase()}\u2026`;
        const resp = await api("/stylize", { method: "POST", body: this.params(format) });
        blob = await resp.blob();
        if (this.lastParams === this.key()) this.results.set(format, blob);
        $("#result-msg").textContent = "";
      }
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = `${this.name.replace(/\.[^.]+$/, "")}-${styles.selected}.${format === "jpeg" ? "jpg" : format}`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (err) {
      showError(box, err);
    }
  },
};

function showResult(beforeUrl, afterUrl, seq) {
  const before = $("#before"), after = $("#result");
  const loaded = (img) => new Promise((resolve) => {
    img.onload = img.onerror = () => resolve();
  });
  const both = Promise.all([loaded(before), loaded(after)]);
  before.src = beforeUrl;
  after.src = afterUrl;
  return both.then(() => {
    $("#compare").hidden = false;
    $("#compare-pos").hidden = false;
    $("#downloads").hidden = false;
    $("#result-empty").hidden = true;
    after.dataset.ready = "1";
    after.dataset.seq = seq; // which run is shown (the page's tests wait on it)
  });
}

function setupPhoto() {
  const drop = $("#drop");
  $("#photo-file").addEventListener("change", (e) => {
    const f = e.target.files[0];
    if (f) photo.setInput(f, f.name);
  });
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const f = e.dataTransfer.files[0];
    if (f) photo.setInput(f, f.name);
  });
  document.addEventListener("paste", (e) => {
    if (e.target.closest && e.target.closest("input, textarea")) return;
    const item = [...(e.clipboardData?.items || [])].find((i) => i.kind === "file");
    if (!item) return;
    e.preventDefault();
    const f = item.getAsFile();
    photo.setInput(f, f.name || "pasted.png");
  });
  // settings re-run the picture as they change; the slider on release, not on every step
  $("#strength").addEventListener("input", (e) => ($("#strength-out").value = Number(e.target.value).toFixed(2)));
  for (const id of ["#strength", "#preserve-color", "#keep-faces", "#scale"]) {
    $(id).addEventListener("change", () => photo.run());
  }
  $("#stylize").addEventListener("click", () => photo.run());
  $("#compare-pos").addEventListener("input", (e) => $("#compare").style.setProperty("--pos", e.target.value + "%"));
  for (const b of document.querySelectorAll("#downloads button")) {
    b.addEventListener("click", () => photo.download(b.dataset.format));
  }
  setupWebcamCapture();
}

async function openCamera(video) {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new ApiError(0, "camera", "this browser gives no camera to pages (it needs https or localhost)");
  }
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  video.srcObject = stream;
  await new Promise((resolve) => {
    if (video.readyState >= 2) resolve();
    else video.onloadeddata = () => resolve();
  });
  return stream;
}

function closeCamera(video) {
  const stream = video.srcObject;
  if (stream) stream.getTracks().forEach((t) => t.stop());
  video.srcObject = null;
}

function frameBlob(video, type, quality) {
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

function setupWebcamCapture() {
  const video = $("#webcam-video");
  $("#webcam-open").addEventListener("click", async () => {
    clearError($("#photo-error"));
    try {
      await openCamera(video);
      $("#webcam").hidden = false;
      $("#drop").hidden = true;
      $("#webcam-snap").focus();
    } catch (err) {
      showError($("#photo-error"), { code: "camera", message: "The webcam could not be opened: " + err.message });
    }
  });
  $("#webcam-snap").addEventListener("click", async () => {
    const blob = await frameBlob(video, "image/png");
    closeCamera(video);
    $("#webcam").hidden = true;
    $("#drop").hidden = false;
    photo.setInput(blob, "webcam.png");
  });
  $("#webcam-close").addEventListener("click", () => {
    closeCamera(video);
    $("#webcam").hidden = true;
    $("#drop").hidden = false;
  });
}

// ---------------------------------------------------------------- live
const live = {
  ws: null,
  timer: null,
  statsTimer: null,
  sent: 0,
  back: 0,
  times: [], // arrival times of the last frames back, for the fps
  url: null,

  async start() {
    const video = $("#live-cam");
    const box = $("#live-error");
    clearError(box);
    try {
      await openCamera(video);
    } catch (err) {
      showError(box, { code: "camera", message: "The webcam could not be opened: " + err.message });
      return;
    }
    const q = new URLSearchParams({ style: $("#live-style").value, strength: $("#live-strength").value });
    if (apiKey()) q.set("api_key", apiKey()); // a browser's WebSocket cannot send headers
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/stream?${q}`);
    ws.binaryType = "blob";
    this.ws = ws;
    this.sent = this.back = 0;
    this.times = [];
    $("#live-start").disabled = true;
    $("#live-stop").disabled = false;
    $("#live-msg").textContent = "Connecting\u2026";
    ws.onopen = () => {
      $("#live-msg").textContent = "Streaming.";
      this.timer = setInterval(() => this.send(), 1000 / Number($("#live-fps").value));
      this.statsTimer = setInterval(() => ws.readyState === 1 && ws.send("stats"), 1000);
    };
    ws.onmessage = (e) => {
      if (typeof e.data === "string") {
        const body = JSON.parse(e.data);
        if (body.error) showError(box, { code: body.error, message: body.message });
        else $("#live-dropped").textContent = body.dropped;
        return;
      }
      const now = performance.now();
      this.back += 1;
      this.times.push(now);
      while (this.times.length && now - this.times[0] > 2000) this.times.shift();
      if (this.url) URL.revokeObjectURL(this.url);
      this.url = URL.createObjectURL(e.data);
      $("#live-out").src = this.url;
      $("#live-back").textContent = this.back;
      const span = (this.times[this.times.length - 1] - this.times[0]) / 1000;
      $("#live-fps-out").textContent = this.times.length > 1 && span > 0 ? ((this.times.length - 1) / span).toFixed(1) : "-";
    };
    ws.onclose = (e) => {
      if (this.ws === ws) this.stop(e.code === 1000 || e.code === 1005 ? "" : `Closed by the service (${e.code}${e.reason ? ": " + e.reason : ""}).`);
    };
  },

  async send() {
    const ws = this.ws, video = $("#live-cam");
    if (!ws || ws.readyState !== 1 || !video.videoWidth) return;
    if (ws.bufferedAmount > 2e6) return; // the socket is backed up: do not pile frames in the browser
    const blob = await frameBlob(video, "image/jpeg", 0.8);
    if (ws.readyState !== 1) return;
    ws.send(blob);
    this.sent += 1;
    $("#live-sent").textContent = this.sent;
  },

  stop(message) {
    clearInterval(this.timer);
    clearInterval(this.statsTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws && ws.readyState <= 1) ws.close(1000);
    closeCamera($("#live-cam"));
    $("#live-start").disabled = false;
    $("#live-stop").disabled = true;
    if (message !== undefined || ws) $("#live-msg").textContent = message || (ws ? "Stopped." : "");
  },
};

function setupLive() {
  $("#live-start").addEventListener("click", () => live.start());
  $("#live-stop").addEventListener("click", () => live.stop());
  $("#live-strength").addEventListener("input", (e) => ($("#live-strength-out").value = Number(e.target.value).toFixed(2)));
  for (const sel of document.querySelectorAll(".style-select")) {
    sel.addEventListener("change", () => (sel.dataset.touched = "1"));
  }
  // the stream's style and strength are fixed when it opens: a change while streaming reopens it
  for (const id of ["#live-style", "#live-strength", "#live-fps"]) {
    $(id).addEventListener("change", () => {
      if (!live.ws) return;
      live.stop();
      live.start();
    });
  }
}

// ---------------------------------------------------------------- video
function setupVideo() {
  $("#video-strength").addEventListener("input", (e) => ($("#video-strength-out").value = Number(e.target.value).toFixed(2)));
  let resultUrl = null;
  $("#video-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const box = $("#video-error"), msg = $("#video-msg"), bar = $("#video-progress");
    clearError(box);
    const f = $("#video-file").files[0];
    if (!f) {
      showError(box, { code: "missing_field", message: "choose a video file first" });
      return;
    }
    const body = new FormData();
    body.append("video", f, f.name);
    body.append("style", $("#video-style").value);
    body.append("strength", $("#video-strength").value);
    $("#video-submit").disabled = true;
    $("#video-out").hidden = true;
    $("#video-download").hidden = true;
    bar.value = 0;
    msg.textContent = "Uploading\u2026";
    try {
      let v = await (await api("/videos", { method: "POST", body })).json();
      while (v.status !== "done" && v.status !== "failed") {
        msg.textContent = `${v.status} ${Math.round(v.progress * 100)}% (${v.frames} frames, ${v.seconds.toFixed(1)} s)`;
        bar.value = v.progress;
        await new Promise((r) => setTimeout(r, 1000));
        v = await (await api(`/videos/${v.id}`)).json();
      }
      if (v.status === "failed") throw new ApiError(422, "video_failed", v.error || "the video job failed");
      bar.value = 1;
      const blob = await (await api(`/videos/${v.id}/result`)).blob();
      if (resultUrl) URL.revokeObjectURL(resultUrl);
      resultUrl = URL.createObjectURL(blob);
      const out = $("#video-out");
      out.src = resultUrl;
      out.hidden = false;
      const a = $("#video-download");
      a.href = resultUrl;
      a.download = f.name.replace(/\.[^.]+$/, "") + "-stylized.mp4";
      a.hidden = false;
      const size = blob.size < 1e6 ? `${Math.ceil(blob.size / 1e3)} kB` : `${(blob.size / 1e6).toFixed(1)} MB`;
      msg.textContent = `Done: ${v.frames} frames, ${size}.`;
    } catch (err) {
      msg.textContent = "";
      showError(box, err);
    } finally {
      $("#video-submit").disabled = false;
    }
  });
}

// ---------------------------------------------------------------- start
function setupKey() {
  const input = $("#api-key");
  input.value = apiKey();
  $("#key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    input.dispatchEvent(new Event("change"));
  });
  input.addEventListener("change", () => {
    if (input.value.trim()) localStorage.setItem(KEY_STORAGE, input.value.trim());
    else localStorage.removeItem(KEY_STORAGE);
    styles.thumbs.clear();
    $("#gallery").textContent = "";
    refreshStyles();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupTabs();
  setupKey();
  setupStyleForm();
  setupPhoto();
  setupLive();
  setupVideo();
  refreshStyles();
});
