// MathJax configuration for pymdownx.arithmatex (generic mode); loaded before MathJax itself.
// Lazy typesetting: a formula is typeset when it comes near the viewport, so a long chapter
// (hundreds of formulas) is readable at once; printing typesets them all (lazyTypesetAll).
window.MathJax = {
  loader: { load: ["ui/lazy"] },
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};

// Material's instant navigation swaps page content without a reload: typeset again.
if (typeof document$ !== "undefined") {
  document$.subscribe(function () {
    if (window.MathJax && MathJax.typesetPromise) {
      MathJax.startup.output.clearCache();
      MathJax.typesetClear();
      MathJax.texReset();
      MathJax.typesetPromise();
    }
  });
}
