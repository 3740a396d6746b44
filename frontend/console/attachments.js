// A case's files in the conversation: thumbnails, a viewer (zoom, rotate, next/previous) over
// the case, PDFs in the browser's own viewer. Files are fetched with the bearer token (never a
// token in a URL) and shown from blob: URLs, each fetched once per page (every fetch is a read
// in the access log).
import { h, replace } from "../shared/dom.js";
import { register, t } from "../shared/i18n.js";

/** Thumbnails in the conversation are this tall (CSS pixels); their width follows the photo. */
const THUMB_HEIGHT = 96;

register({
  ko: {
    "attach.photo": "사진",
    "attach.open_pdf": "PDF 열기",
    "attach.arriving": "사진 받는 중…",
    "attach.failed": "파일을 받지 못했습니다",
    "attach.unavailable": "파일을 열 수 없습니다",
    "attach.viewer": "사진 보기",
    "attach.zoom_in": "확대",
    "attach.zoom_out": "축소",
    "attach.rotate": "회전",
    "attach.previous": "이전",
    "attach.next": "다음",
    "attach.close": "닫기",
    "attach.position": "{n} / {total}",
    "attach.note.unsupported_type": "지원하지 않는 형식의 파일은 저장하지 않았습니다.",
    "attach.note.too_large": "크기 제한을 넘는 파일은 저장하지 않았습니다.",
    "attach.note.too_many_pixels": "안전하게 열기에는 너무 큰 이미지는 저장하지 않았습니다.",
    "attach.note.unreadable_image": "열 수 없는 손상된 이미지는 저장하지 않았습니다.",
    "attach.add": "파일 첨부",
    "attach.add_hint": "사진(JPEG, PNG, WebP, HEIC, GIF) 또는 PDF",
    "attach.uploading": "올리는 중…",
    "attach.upload_failed": "올리지 못했습니다: {error}",
    "attach.remove": "첨부 빼기: {name}",
    "attach.wait": "파일을 다 올린 뒤에 보내세요.",
  },
  en: {
    "attach.photo": "Photo",
    "attach.open_pdf": "Open PDF",
    "attach.arriving": "Photo arriving…",
    "attach.failed": "The file could not be fetched",
    "attach.unavailable": "The file cannot be opened",
    "attach.viewer": "Photo viewer",
    "attach.zoom_in": "Zoom in",
    "attach.zoom_out": "Zoom out",
    "attach.rotate": "Rotate",
    "attach.previous": "Previous",
    "attach.next": "Next",
    "attach.close": "Close",
    "attach.position": "{n} of {total}",
    "attach.note.unsupported_type": "A file of an unsupported type was not stored.",
    "attach.note.too_large": "A file larger than the size limit was not stored.",
    "attach.note.too_many_pixels": "An image too large to open safely was not stored.",
    "attach.note.unreadable_image": "A damaged image that could not be opened was not stored.",
    "attach.add": "Attach a file",
    "attach.add_hint": "A photo (JPEG, PNG, WebP, HEIC, GIF) or a PDF",
    "attach.uploading": "Uploading…",
    "attach.upload_failed": "Not uploaded: {error}",
    "attach.remove": "Remove attachment: {name}",
    "attach.wait": "Send once the files have uploaded.",
  },
});

/** Promises of blob: URLs by path, so a re-render never fetches (nor logs a read) again. */
const blobs = new Map();

function blobUrl(api, path) {
  if (!blobs.has(path)) {
    const loading = fetch(api.base + path, { headers: api.headers() }).then(async (response) => {
      if (!response.ok) {
        if (response.status === 401) api.onUnauthorized();
        throw new Error(`HTTP ${response.status}`);
      }
      return URL.createObjectURL(await response.blob());
    });
    loading.catch(() => blobs.delete(path)); // a failed fetch may be tried again
    blobs.set(path, loading);
  }
  return blobs.get(path);
}

export const isImage = (a) => a.state === "stored" && a.content_type.startsWith("image/");
const isPdf = (a) => a.state === "stored" && a.content_type === "application/pdf";

/** The images of the whole conversation, in order: what the viewer pages through. */
export function caseImages(messages) {
  return messages.flatMap((m) => (m.attachments || []).filter(isImage));
}

/** The files and refused-file notes of one message (null when it has none). */
export function attachmentBlock(api, message, images) {
  const files = message.attachments || [];
  const notes = message.attachment_notes || [];
  if (!files.length && !notes.length) return null;
  return h(
    "div",
    { class: "attachments" },
    files.length ? h("ul", { class: "attachment-list" }, files.map((a) => h("li", {}, fileItem(api, a, images)))) : null,
    notes.map((n) =>
      h("p", { class: "attachment-note", dataset: { code: n.code } }, `⚠ ${t(`attach.note.${n.code}`)}${n.filename ? ` (${n.filename})` : ""}`),
    ),
  );
}

function fileItem(api, a, images) {
  if (a.state === "pending") return h("span", { class: "attachment-pending", role: "status" }, `⏳ ${t("attach.arriving")}`);
  if (a.state !== "stored") return h("span", { class: "attachment-failed" }, `⚠ ${t("attach.failed")}`);
  if (isPdf(a)) {
    return h("button", { type: "button", class: "attachment-pdf", title: a.filename, onclick: () => openPdf(api, a) }, `PDF · ${a.filename}`, " · ", t("attach.open_pdf"));
  }
  // The box has the photo's own shape before it loads: a landscape wound photo stays landscape.
  const wide = a.width && a.height ? Math.round((THUMB_HEIGHT * a.width) / a.height) : THUMB_HEIGHT;
  const width = Math.max(THUMB_HEIGHT / 2, Math.min(THUMB_HEIGHT * 2, wide));
  const img = h("img", { alt: a.filename, width: String(width), height: String(THUMB_HEIGHT), class: "thumb", dataset: { attachmentId: String(a.id) } });
  blobUrl(api, `/api/v1/attachments/${a.id}/thumbnail`).then(
    (url) => (img.src = url),
    () => (img.alt = `${a.filename} — ${t("attach.unavailable")}`),
  );
  return h(
    "button",
    { type: "button", class: "attachment-thumb", title: a.filename, "aria-label": `${t("attach.photo")}: ${a.filename}`, onclick: () => openViewer(api, images, images.findIndex((x) => x.id === a.id)) },
    img,
  );
}

/** A PDF in the browser's viewer, in a new tab (opened at the click, so no popup blocker). */
async function openPdf(api, a) {
  const tab = window.open("", "_blank");
  try {
    const url = await blobUrl(api, `/api/v1/attachments/${a.id}`);
    if (tab) tab.location.href = url;
    else window.location.assign(url);
  } catch {
    if (tab) tab.close();
    alert(t("attach.unavailable"));
  }
}

// ---------------------------------------------------------------- the viewer

let viewer = null;

/** The overlay: one photo at a time over the case, which stays open beneath it. */
export function openViewer(api, images, index) {
  if (!images.length) return;
  closeViewer();
  const state = { index: Math.max(0, index), zoom: 1, turn: 0 };
  const img = h("img", { class: "viewer-image", alt: "" });
  const caption = h("p", { class: "viewer-caption", role: "status", "aria-live": "polite" });
  const button = (label, icon, fn, extra = {}) =>
    h("button", { type: "button", "aria-label": t(label), title: t(label), onclick: fn, ...extra }, icon);
  const show = () => {
    const a = images[state.index];
    img.alt = a.filename;
    img.removeAttribute("src");
    img.style.transform = `rotate(${state.turn * 90}deg) scale(${state.zoom})`;
    blobUrl(api, `/api/v1/attachments/${a.id}`).then((url) => {
      if (images[state.index] === a) img.src = url;
    }, () => (img.alt = `${a.filename} — ${t("attach.unavailable")}`));
    replace(caption, `${a.filename} · ${t("attach.position", { n: state.index + 1, total: images.length })}`);
  };
  const go = (step) => {
    state.index = (state.index + step + images.length) % images.length;
    state.zoom = 1;
    state.turn = 0;
    show();
  };
  const zoom = (factor) => {
    state.zoom = Math.min(8, Math.max(0.25, state.zoom * factor));
    show();
  };
  const rotate = () => {
    state.turn = (state.turn + 1) % 4;
    show();
  };
  const onKey = (event) => {
    const keys = { Escape: closeViewer, ArrowLeft: () => go(-1), ArrowRight: () => go(1), "+": () => zoom(1.25), "=": () => zoom(1.25), "-": () => zoom(0.8), r: rotate };
    if (keys[event.key]) {
      event.preventDefault();
      event.stopPropagation();
      keys[event.key]();
    }
  };
  const single = images.length < 2;
  viewer = h(
    "div",
    { class: "viewer", id: "viewer", role: "dialog", "aria-modal": "true", "aria-label": t("attach.viewer"), tabindex: "-1" },
    h(
      "div",
      { class: "viewer-tools" },
      button("attach.previous", "◀", () => go(-1), { disabled: single, id: "viewer-prev" }),
      button("attach.next", "▶", () => go(1), { disabled: single, id: "viewer-next" }),
      button("attach.zoom_out", "−", () => zoom(0.8), { id: "viewer-zoom-out" }),
      button("attach.zoom_in", "+", () => zoom(1.25), { id: "viewer-zoom-in" }),
      button("attach.rotate", "⟳", rotate, { id: "viewer-rotate" }),
      button("attach.close", "✕", closeViewer, { id: "viewer-close" }),
    ),
    h("div", { class: "viewer-stage" }, img),
    caption,
  );
  viewer.addEventListener("keydown", onKey);
  document.body.appendChild(viewer);
  viewer.focus();
  show();
}

export function closeViewer() {
  if (viewer) viewer.remove();
  viewer = null;
}

// ---------------------------------------------------------------- files for a reply

/** The sources whose replies carry files (the web chat, e-mail): the attach button shows there. */
export const SOURCES_WITH_FILES = new Set(["webchat", "smtp"]);

/** Files picked for the reply being written, by case: uploaded at once, sent with the reply. */
const replyFiles = new Map();

const filesOf = (ticketId) => replyFiles.get(ticketId) || [];
/** The ids of the uploaded files of a case's reply. */
export const replyFileIds = (ticketId) => filesOf(ticketId).filter((f) => f.id).map((f) => f.id);
/** Whether a file of the case's reply is still uploading. */
export const replyUploading = (ticketId) => filesOf(ticketId).some((f) => f.uploading);
/** Take a case's reply files out of the box (sending them); :func:`putReplyFiles` gives them back. */
export function takeReplyFiles(ticketId) {
  const files = filesOf(ticketId);
  replyFiles.delete(ticketId);
  return files;
}
export const putReplyFiles = (ticketId, files) => files.length && replyFiles.set(ticketId, files);

/** The reply box's attach button and the list of its files (null on a channel without files). */
export function replyAttach(api, ticket, describe) {
  if (!SOURCES_WITH_FILES.has(ticket.source)) return null;
  const list = h("ul", { class: "reply-files", "aria-live": "polite" });
  const render = () =>
    replace(
      list,
      ...filesOf(ticket.id).map((f) =>
        h(
          "li",
          { class: f.error ? "reply-file failed" : "reply-file", dataset: f.id ? { attachmentId: String(f.id) } : {} },
          `${f.content_type === "application/pdf" ? "PDF" : t("attach.photo")} · ${f.name}`,
          f.uploading ? h("span", { class: "muted" }, ` ${t("attach.uploading")}`) : null,
          f.error ? h("span", { class: "error" }, ` ${t("attach.upload_failed", { error: f.error })}`) : null,
          f.uploading
            ? null
            : h("button", { type: "button", class: "reply-file-remove", "aria-label": t("attach.remove", { name: f.name }), title: t("attach.remove", { name: f.name }), onclick: () => {
                replyFiles.set(ticket.id, filesOf(ticket.id).filter((x) => x !== f));
                render();
              } }, "×"),
        ),
      ),
    );
  const input = h("input", { type: "file", id: "reply-file", accept: "image/*,application/pdf", multiple: true, hidden: true, onchange: async () => {
    const picked = [...input.files];
    input.value = "";
    await Promise.all(picked.map((file) => upload(api, ticket.id, file, render, describe)));
  } });
  render();
  return h(
    "div",
    { class: "reply-attach" },
    input,
    h("button", { type: "button", class: "attach-button", title: t("attach.add_hint"), onclick: () => input.click() }, t("attach.add")),
    list,
  );
}

async function upload(api, ticketId, file, render, describe) {
  const entry = { name: file.name, content_type: file.type, uploading: true };
  replyFiles.set(ticketId, [...filesOf(ticketId), entry]);
  render();
  const body = new FormData();
  body.append("file", file, file.name);
  try {
    const response = await fetch(api.base + "/api/v1/attachments", { method: "POST", headers: api.headers(), body });
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      if (response.status === 401) api.onUnauthorized();
      entry.error = describe(answer?.detail ?? { code: `http_${response.status}` });
    } else {
      entry.id = answer.id;
      entry.content_type = answer.content_type;
    }
  } catch (err) {
    entry.error = String(err?.message || err);
  }
  entry.uploading = false;
  render();
}
