//! Unit tests of the settings form model: unit conversions both ways, and the validation rules
//! (ranges, template syntax mirroring the core's naming module, paired credentials, agent URL).
import { describe, expect, it } from "vitest";
import { settings } from "../test/fake-backend";
import { fromForm, templateProblem, toForm } from "./settings-form";

describe("settings form model", () => {
  it("round-trips settings through the form", () => {
    const s = settings({ bandwidth_limit_bytes_per_sec: 1_500_000, auto_sync_hours: 6, podcastindex_key: "k", podcastindex_secret: "s" });
    const r = fromForm(toForm(s));
    expect(r).toEqual({ ok: true, settings: s });
  });

  it("checks templates like the core", () => {
    expect(templateProblem("{playlist}/{date} {title}.{ext}")).toBeNull();
    expect(templateProblem("")).toMatch(/Enter a template/);
    expect(templateProblem("/abs/{title}.{ext}")).toMatch(/relative/);
    expect(templateProblem("{playlist}//{title}.{ext}")).toMatch(/empty folder/);
    expect(templateProblem("../{title}.{ext}")).toMatch(/not allowed/);
    expect(templateProblem("{title")).toMatch(/not closed/);
    expect(templateProblem("{guid}.{ext}")).toMatch(/Unknown placeholder \{guid\}/);
    expect(templateProblem("{playlist}/{title}")).toMatch(/\{ext\}/);
  });

  it("rejects bad numbers, half credentials and a deadline shorter than the stall window", () => {
    const f = toForm(settings());
    f.per_host_connections = "2.5";
    f.podcastindex_key = "key-only";
    f.stall_timeout_s = "600";
    f.transfer_deadline_min = "5";
    f.auto_sync_enabled = true;
    f.auto_sync_hours = "0";
    const r = fromForm(f);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.per_host_connections).toMatch(/whole number/);
    expect(r.errors.podcastindex_secret).toMatch(/both/);
    expect(r.errors.transfer_deadline_min).toMatch(/longer than the stall timeout/);
    expect(r.errors.auto_sync_hours).toMatch(/between 1 and 168/);
  });
});
