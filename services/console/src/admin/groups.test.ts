import { describe, expect, it } from "vitest";

import { checkGroup } from "./groups";

describe("checkGroup", () => {
  it("builds the group with distinct models and a description only when given", () => {
    expect(checkGroup({ name: " fast models ", models: ["a", "b", "a"], description: " " })).toEqual({
      ok: true,
      group: { name: "fast models", models: ["a", "b"] },
    });
    expect(checkGroup({ name: "x", models: ["a"], description: "cheap ones" })).toEqual({
      ok: true,
      group: { name: "x", models: ["a"], description: "cheap ones" },
    });
  });

  it("refuses names provisioning refuses, and a group without models", () => {
    const checked = checkGroup({ name: "-bad", models: [], description: "" });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(Object.keys(checked.errors).sort()).toEqual(["models", "name"]);
    expect(checkGroup({ name: "a/b", models: ["m"], description: "" }).ok).toBe(false);
    expect(checkGroup({ name: "a".repeat(101), models: ["m"], description: "" }).ok).toBe(false);
  });
});
