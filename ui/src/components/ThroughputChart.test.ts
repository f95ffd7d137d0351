//! Component tests of the throughput plot: an idle window says so, samples draw a line whose
//! axis top is a round number at or above the peak, and samples older than the window are left out.
import { render, screen } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import ThroughputChart from "./ThroughputChart.svelte";

const now = 1_800_000_000_000;

describe("throughput chart", () => {
  it("says when nothing was downloaded", () => {
    render(ThroughputChart, { samples: [], current: 0, now });
    expect(screen.getByText("idle")).toBeTruthy();
    expect(screen.getByText("No downloads in the last 5 minutes")).toBeTruthy();
  });

  it("plots the samples of the window with a round axis top", () => {
    const samples = [
      { t_ms: now - 20 * 60_000, bytes_per_sec: 90_000_000 },
      { t_ms: now - 60_000, bytes_per_sec: 1_200_000 },
      { t_ms: now - 30_000, bytes_per_sec: 3_400_000 },
      { t_ms: now, bytes_per_sec: 2_000_000 },
    ];
    const { container } = render(ThroughputChart, { samples, current: 2_000_000, now });
    expect(screen.getByText("2.00 MB/s")).toBeTruthy();
    expect(screen.getByText("peak 3.40 MB/s")).toBeTruthy();
    expect(screen.getByText("5.00 MB/s")).toBeTruthy();
    const line = container.querySelector("path.line")!.getAttribute("d")!;
    expect(line.match(/[ML]/g)).toHaveLength(3);
  });
});
