// A tiny message dictionary: each page registers its strings in Korean and English.
// Korean is the default (the service's language); the choice is remembered per browser
// (a preference, not a secret).

const KEY = "consult119.locale";
const dictionaries = { ko: {}, en: {} };
let current = "ko";
const listeners = new Set();

export const LOCALES = ["ko", "en"];

/** Merge `{ko: {...}, en: {...}}` into the dictionary. */
export function register(messages) {
  for (const locale of LOCALES) Object.assign(dictionaries[locale], messages[locale] || {});
}

/** Translate `key`, filling `{name}` placeholders from `params`. Falls back to Korean, then the key. */
export function t(key, params = {}, locale = current) {
  const template = dictionaries[locale]?.[key] ?? dictionaries.ko[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** The supported locale closest to a BCP 47 tag ("en-GB" → "en"); Korean otherwise. */
export function pickLocale(tag) {
  const base = String(tag || "").toLowerCase().split(/[-_]/)[0];
  return LOCALES.includes(base) ? base : "ko";
}

export function getLocale() {
  return current;
}

export function setLocale(locale, { remember = true } = {}) {
  current = pickLocale(locale);
  if (remember) {
    try {
      globalThis.localStorage?.setItem(KEY, current);
    } catch {
      /* storage may be disabled: the choice lasts for this page */
    }
  }
  if (globalThis.document) document.documentElement.lang = current;
  for (const fn of listeners) fn(current);
}

/** The remembered choice, else the browser's language, else Korean. */
export function initialLocale() {
  let saved = null;
  try {
    saved = globalThis.localStorage?.getItem(KEY);
  } catch {
    saved = null;
  }
  return pickLocale(saved || globalThis.navigator?.language || "ko");
}

export function onLocaleChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Fill every `[data-i18n]` element's text (and `[data-i18n-placeholder]`) in `root`. */
export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.setAttribute("placeholder", t(el.dataset.i18nPlaceholder));
  }
  for (const el of root.querySelectorAll("[data-i18n-title]")) {
    el.setAttribute("title", t(el.dataset.i18nTitle));
  }
}
