// Small behaviours declared in markup, because the Content-Security-Policy runs no inline
// event handlers (onclick=…): data-submit-on-change, data-print, data-check-all="<name>".
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target.matches("[data-submit-on-change]") && target.form) target.form.submit();
  if (target.matches("[data-check-all]")) {
    const name = target.dataset.checkAll;
    document.querySelectorAll(`input[type=checkbox][name="${name}"]`).forEach((box) => {
      box.checked = target.checked;
    });
  }
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) window.print();
});
