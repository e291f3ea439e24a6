// Opening a round: choosing its campaign reloads the page with ?campaign=<code> (the form of a
// panel campaign has judges and a chair), as the "choose" button does without JavaScript.
// A select with data-autosubmit submits its form when changed (no inline handlers under the CSP).
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.submit();
});
