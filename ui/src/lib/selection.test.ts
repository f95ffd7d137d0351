//! Unit tests of row selection: single click, toggle, Shift ranges both directions, Shift with
//! toggle adding to the selection, select all, and pruning after a refresh.
import { describe, expect, it } from "vitest";
import { clickRow, emptySelection, prune, selectAll, selectedInOrder, toggleRow } from "./selection";

const order = [10, 20, 30, 40, 50];
const ids = (s: { ids: Set<number> }) => [...s.ids].sort((a, b) => a - b);

describe("selection", () => {
  it("selects one row on a plain click", () => {
    let s = clickRow(emptySelection(), order, 20);
    s = clickRow(s, order, 40);
    expect(ids(s)).toEqual([40]);
    expect(s.anchor).toBe(40);
  });
  it("selects ranges with shift in both directions from the anchor", () => {
    let s = clickRow(emptySelection(), order, 30);
    s = clickRow(s, order, 50, { shift: true });
    expect(ids(s)).toEqual([30, 40, 50]);
    s = clickRow(s, order, 10, { shift: true });
    expect(ids(s)).toEqual([10, 20, 30]);
  });
  it("toggles with ctrl and adds ranges with ctrl+shift", () => {
    let s = clickRow(emptySelection(), order, 10);
    s = clickRow(s, order, 30, { toggle: true });
    expect(ids(s)).toEqual([10, 30]);
    s = clickRow(s, order, 50, { toggle: true, shift: true });
    expect(ids(s)).toEqual([10, 30, 40, 50]);
    s = toggleRow(s, order, 10);
    expect(ids(s)).toEqual([30, 40, 50]);
  });
  it("selects all and prunes rows that disappeared", () => {
    let s = selectAll(order);
    expect(selectedInOrder(s, order)).toEqual(order);
    s = prune(s, [20, 50]);
    expect(ids(s)).toEqual([20, 50]);
    expect(s.anchor).toBeNull();
  });
});
