/* A figure keeps a readable size on a narrow screen (added by regprune.sphinx_site).

   A figure is drawn for the text column of a desktop page (its labels ~16 px at that width). Shrunk
   to a phone's column, a two-panel figure would show at half size, its text at ~8 px. Where that
   would happen, the figure is shown at READABLE of its drawn size instead and its output box
   scrolls sideways, as a wide table does; a figure that fits at READABLE or more is left alone. */
(function () {
  const READABLE = 0.75;
  function fit(img) {
    const box = img.closest('.cell_output');
    // the width the page draws it at: a 2x PNG's style width, else its width attribute, else its own
    const drawn = (img.style.width.endsWith('px') && parseFloat(img.style.width))
                  || parseFloat(img.getAttribute('width')) || img.naturalWidth;
    if (!box || !drawn) return;
    if (img.dataset.readable) {  // undo what an earlier fit set (a wider window now)
      img.style.minWidth = img.style.maxWidth = box.style.overflowX = '';
      delete img.dataset.readable;
    }
    if (box.clientWidth < READABLE * drawn) {
      img.style.minWidth = img.style.maxWidth = Math.round(READABLE * drawn) + 'px';
      box.style.overflowX = 'auto';
      img.dataset.readable = '1';
    }
  }
  function fitAll() {
    document.querySelectorAll('.cell_output img').forEach(function (img) {
      if (img.complete) fit(img); else img.addEventListener('load', function () { fit(img); }, { once: true });
    });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fitAll); else fitAll();
  window.addEventListener('resize', fitAll);
})();
