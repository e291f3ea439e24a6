// The visit form keeps what was typed in this phone's storage as it is typed, so a lost
// connection or a closed tab never loses it; the page shown after a saved visit clears it.
// The hidden form key is kept too: a form sent again after a lost answer records no second visit.
(() => {
  const MAX_AGE_MS = 12 * 60 * 60 * 1000;

  function read(key) {
    try {
      const saved = JSON.parse(localStorage.getItem(key) || "null");
      if (!saved || Date.now() - saved.at > MAX_AGE_MS) return null;
      return saved.values;
    } catch (error) {
      return null;
    }
  }

  function fields(form) {
    return Array.from(form.elements).filter(
      (el) => el.name && el.type !== "file" && el.name !== "csrfmiddlewaretoken" && el.type !== "submit" && el.type !== "button"
    );
  }

  function save(form, key) {
    const values = {};
    for (const el of fields(form)) {
      if (el.type === "checkbox") {
        values[el.name] = values[el.name] || [];
        if (el.checked) values[el.name].push(el.value);
      } else {
        values[el.name] = el.value;
      }
    }
    try {
      localStorage.setItem(key, JSON.stringify({ at: Date.now(), values }));
    } catch (error) {
      // Storage full or refused (private mode): the form still works, only unsaved.
    }
  }

  function restore(form, values) {
    for (const el of fields(form)) {
      if (!(el.name in values)) continue;
      const value = values[el.name];
      if (el.type === "checkbox") el.checked = Array.isArray(value) && value.includes(el.value);
      else el.value = value;
    }
  }

  function setUp() {
    document.querySelectorAll("[data-visit-saved]").forEach((marker) => {
      try {
        localStorage.removeItem(marker.dataset.visitSaved);
      } catch (error) {}
    });
    const form = document.querySelector("form[data-autosave]");
    if (!form) return;
    const key = form.dataset.autosave;
    const values = read(key);
    // A form the server sent back with errors already holds what was sent: keep it.
    if (values && !document.querySelector("main .error")) {
      restore(form, values);
      const notice = document.querySelector("[data-restored-notice]");
      if (notice) notice.hidden = false;
    }
    form.addEventListener("input", () => save(form, key));
    form.addEventListener("change", () => save(form, key));

    const button = form.querySelector("[data-locate]");
    const status = form.querySelector("[data-locate-status]");
    const texts = document.querySelector("[data-geo-messages]");
    if (button && navigator.geolocation) {
      button.addEventListener("click", () => {
        if (status && texts) status.textContent = texts.dataset.wait;
        navigator.geolocation.getCurrentPosition(
          (position) => {
            form.elements.latitude.value = position.coords.latitude.toFixed(6);
            form.elements.longitude.value = position.coords.longitude.toFixed(6);
            if (status && texts) status.textContent = texts.dataset.ok;
            save(form, key);
          },
          () => {
            if (status && texts) status.textContent = texts.dataset.fail;
          },
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
        );
      });
    } else if (button) {
      button.hidden = true;
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
