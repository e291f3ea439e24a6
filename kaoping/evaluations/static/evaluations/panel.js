// The screen's full-screen button (data-fullscreen="<selector>"): the Content-Security-Policy
// runs no inline handlers. The element made full screen is the stage around the polled part,
// so each poll's swap keeps it full screen.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-fullscreen]");
  if (!button) return;
  const stage = document.querySelector(button.dataset.fullscreen);
  if (!stage) return;
  if (document.fullscreenElement) document.exitFullscreen();
  else if (stage.requestFullscreen) stage.requestFullscreen();
});
