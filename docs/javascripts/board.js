// The claims board (docs/hooks/claims.py renders it): sort by a column header, filter by the
// selects and the search box. Plain JS, no library; rows carry their sort keys in data-key.
document.addEventListener("DOMContentLoaded", () => {
  for (const board of document.querySelectorAll(".dl-board")) {
    const tbody = board.querySelector("tbody");
    const rows = Array.from(tbody.rows);
    const count = board.querySelector(".dl-board-count");
    const filters = Array.from(board.querySelectorAll("[data-filter]"));
    let sorted = { col: null, dir: 1 };

    const keyOf = (row, col) => row.querySelector(`td.dl-col-${col}`).dataset.key;
    const compare = (a, b) => {
      const x = keyOf(a, sorted.col), y = keyOf(b, sorted.col);
      if (x === "" || y === "") return (x === "") - (y === "");  // blanks last either way
      const nx = Number(x), ny = Number(y);
      const c = Number.isNaN(nx) || Number.isNaN(ny) ? x.localeCompare(y) : nx - ny;
      return sorted.dir * c;
    };

    const apply = () => {
      let shown = 0;
      for (const row of rows) {
        const ok = filters.every((f) => {
          if (!f.value) return true;
          if (f.dataset.filter === "text") {
            return row.textContent.toLowerCase().includes(f.value.toLowerCase());
          }
          return row.dataset[f.dataset.filter] === f.value;
        });
        row.hidden = !ok;
        shown += ok;
      }
      count.textContent = `${shown} of ${rows.length} claims`;
    };

    for (const button of board.querySelectorAll("th button[data-sort]")) {
      button.addEventListener("click", () => {
        const col = button.dataset.sort;
        sorted = { col, dir: sorted.col === col ? -sorted.dir : 1 };
        for (const th of board.querySelectorAll("th")) th.removeAttribute("aria-sort");
        button.parentElement.setAttribute("aria-sort", sorted.dir > 0 ? "ascending" : "descending");
        tbody.append(...rows.slice().sort(compare));  // stable: ties keep the current order
      });
    }
    for (const f of filters) f.addEventListener("input", apply);
    apply();
  }
});
