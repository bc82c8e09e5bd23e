import { describe, expect, it } from "vitest";

import { bars } from "./chart";

describe("bars", () => {
  it("scales to the largest value and keeps small non-zero values visible", () => {
    expect(bars([
      { label: "a", value: 50 },
      { label: "b", value: 0.0001 },
      { label: "c", value: 0 },
      { label: "d", value: 25 },
    ]).map((bar) => bar.length)).toEqual([100, 1, 0, 50]);
  });

  it("draws nothing when there is no usage", () => {
    expect(bars([{ label: "a", value: 0 }])).toEqual([{ label: "a", value: 0, length: 0 }]);
    expect(bars([])).toEqual([]);
  });
});
