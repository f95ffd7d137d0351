//! Test setup: jsdom lacks ResizeObserver (Svelte's bind:clientWidth uses it), so a no-op one
//! stands in; after each test the DOM is cleaned and the injected backend reset, so one test's
//! fake never leaks into the next.
import { afterEach } from "vitest";
import { cleanup } from "@testing-library/svelte";
import { resetBackend } from "../lib/api";

if (!("ResizeObserver" in globalThis)) {
  globalThis.ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}

afterEach(() => {
  cleanup();
  resetBackend();
});
